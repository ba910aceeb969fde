import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** docs/architecture.md stays the map of the code: every Nest module in src/ has its row, in its folder. */
const ROOT = join(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !/\.(spec|nest-spec)\.ts$/.test(entry.name) ? [path] : [];
  });
}

describe('docs/architecture.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const rows = new Map<string, string>();
  for (const match of doc.matchAll(/^\| `(\w+Module)` \| `([^`]+)` \|/gm)) rows.set(match[1], match[2]);

  const modules = sourceFiles(join(ROOT, 'src')).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/@Module\([^)]*\)[^]*?export class (\w+Module)\b/g)].map((match) => ({
      name: match[1],
      folder: `${relative(ROOT, join(file, '..'))}/`,
    })),
  );

  it('should find the modules it checks', () => {
    expect(modules.map((module) => module.name)).toEqual(expect.arrayContaining(['AppModule', 'MultiUserAuthModule', 'AuthnModule']));
  });

  it('should list every module of src/ with its folder, and no module that does not exist', () => {
    const inCode = new Map(modules.map((module) => [module.name, module.folder]));
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(inCode));
  });
});
