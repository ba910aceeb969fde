import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8');

interface Manifest {
  version: string;
  engines?: { node?: string };
  scripts?: Record<string, string>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const ENGINES = readJson<Manifest>(join(ROOT, 'package.json')).engines?.node ?? '';

/** Rows of the Markdown table whose header row starts with `| first |`, as trimmed cells. */
function table(first: string): string[][] {
  const lines = DOC.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  if (start < 0) throw new Error(`docs/deployment.md has no table starting with "| ${first} |"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.replace(/\\\|/g, '\uE000').split('|').slice(1, -1).map((cell) => cell.trim().replace(/\uE000/g, '|')));
  }
  return rows;
}

/** Installed packages (path under node_modules → manifest), nested ones included. */
function installedPackages(): Map<string, Manifest> {
  const lock = readJson<{ packages: Record<string, unknown> }>(join(ROOT, 'package-lock.json'));
  const found = new Map<string, Manifest>();
  for (const key of Object.keys(lock.packages)) {
    const manifest = join(ROOT, key, 'package.json');
    if (key && existsSync(manifest)) found.set(key, readJson<Manifest>(manifest));
  }
  return found;
}

function hasNativeCode(dir: string, depth = 0): boolean {
  if (depth > 4) return false;
  return readdirSync(dir, { withFileTypes: true }).some((entry) => {
    if (entry.name === 'node_modules') return false;
    if (entry.isDirectory()) return hasNativeCode(join(dir, entry.name), depth + 1);
    return entry.name.endsWith('.node') || entry.name === 'binding.gyp';
  });
}

describe('docs/deployment.md', () => {
  it('shows the engines range package.json declares, and one table row per Node line in it', () => {
    expect(DOC).toContain(`"node": "${ENGINES}"`);
    const documented = table('Node.js line')
      .map(([, supported]) => /^(\d+)\.(\d+) and later$/.exec(supported))
      .filter((match): match is RegExpExecArray => match !== null)
      .map(([, major, minor]) => `^${major}.${minor}.0`);
    expect(documented.sort()).toEqual(ENGINES.split('||').map((range) => range.trim()).sort());
  });

  it('is what the README states on its first screen', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const runtimes = /^Runs on Node\.js (.+)$/m.exec(readme)?.[1] ?? '';
    for (const range of ENGINES.split('||')) {
      const [, major, minor] = /\^(\d+)\.(\d+)\.0/.exec(range) ?? [];
      expect(runtimes).toContain(minor === '0' ? `${major} LTS` : `${major}.${minor}+`);
    }
    expect(readme).toContain('[docs/deployment.md](docs/deployment.md)');
  });

  it('names the installed version and engines range of every dependency in its table', () => {
    const installed = installedPackages();
    for (const [cell, , , , engines] of table('Package')) {
      const [, name, version] = /^(\S+) (\d+\.\d+\.\d+)/.exec(cell) ?? [];
      const manifest = installed.get(`node_modules/${name}`);
      expect({ name, version: manifest?.version, engines: manifest?.engines?.node ?? '—' }).toEqual({ name, version, engines: engines.replace(/`/g, '') });
    }
  });

  it('lists every installed package with native code or an install script', () => {
    const listed = new Set(table('Package').map(([cell]) => cell.split(' ')[0]));
    const native = [...installedPackages()]
      .filter(([path, manifest]) => ['preinstall', 'install', 'postinstall'].some((s) => manifest.scripts?.[s]) || hasNativeCode(join(ROOT, path)))
      .map(([path]) => path.replace(/^.*node_modules\//, ''));
    expect(native.filter((name) => !listed.has(name))).toEqual([]);
  });
});
