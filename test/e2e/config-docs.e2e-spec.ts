import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config-loader';
import { CONFIG_SCHEMA, JsonSchema } from '../../src/config/config.schema';
import { runTiled } from '../helpers/tiled-process';

const DOC = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');

/** Section heading (`### \`authentication.providers[]\``, `### Top-level keys`) → keys in its table's first column. */
function documentedKeys(): Map<string, Set<string>> {
  const sections = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of DOC.split('\n')) {
    const heading = /^###\s+(?:`([^`]+)`|(Top-level keys))\s*$/.exec(line);
    if (heading) {
      current = new Set();
      sections.set(heading[1] ?? '', current);
      continue;
    }
    if (/^#{1,3}\s/.test(line)) current = undefined;
    const row = /^\|\s*`([^`]+)`\s*\|/.exec(line);
    if (row && current) current.add(row[1]);
  }
  return sections;
}

/** Every object in the schema with named keys, by its documentation section name. */
function schemaSections(schema: JsonSchema, path = '', out = new Map<string, string[]>()): Map<string, string[]> {
  if (schema.properties) {
    out.set(path, Object.keys(schema.properties));
    for (const [key, child] of Object.entries(schema.properties)) schemaSections(child, path ? `${path}.${key}` : key, out);
  }
  if (schema.items) schemaSections(schema.items, `${path}[]`, out);
  return out;
}

interface Block {
  info: string;
  body: string;
  next?: Block;
}

function codeBlocks(): Block[] {
  const blocks: Block[] = [];
  const pattern = /^```([^\n]*)\n([\s\S]*?)^```$/gm;
  for (const match of DOC.matchAll(pattern)) blocks.push({ info: match[1].trim(), body: match[2] });
  blocks.forEach((block, index) => (block.next = blocks[index + 1]));
  return blocks;
}

describe('docs/configuration.md', () => {
  const documented = documentedKeys();

  it.each([...schemaSections(CONFIG_SCHEMA).entries()])('documents every key of section "%s" in a table', (section, keys) => {
    expect(documented.has(section)).toBe(true);
    const missing = keys.filter((key) => !documented.get(section)!.has(key));
    expect(missing).toEqual([]);
  });

  it('documents no key the schema does not have', () => {
    const schema = schemaSections(CONFIG_SCHEMA);
    for (const [section, keys] of documented) expect([...keys].filter((key) => !schema.get(section)?.includes(key))).toEqual([]);
  });

  const valid = codeBlocks().filter((block) => block.info === 'yaml');
  it.each(valid.map((block, index) => [index, block.body]))('YAML example %i loads', async (_index, body) => {
    const dir = mkdtempSync(join(tmpdir(), 'tiled-doc-'));
    writeFileSync(join(dir, 'config.yml'), body);
    const config = await loadConfig(join(dir, 'config.yml'), { ALICE_PASSWORD: 'secret1', TILED_SIGNING_KEY: 'k'.repeat(32), PORT: '8000' });
    expect(config.trees.length).toBeGreaterThan(0);
  });

  it('shows exactly what tiled serve prints for the broken example', async () => {
    const broken = codeBlocks().find((block) => block.info === 'yaml broken');
    expect(broken?.next?.info).toBe('text');
    const dir = mkdtempSync(join(tmpdir(), 'tiled-doc-'));
    writeFileSync(join(dir, 'config.yml'), broken!.body);
    const result = await runTiled(['serve', 'config', 'config.yml', '--port', '0'], { cwd: dir, env: { ALICE_PASSWORD: undefined } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`Using configuration from config.yml\n${broken!.next!.body}`);
  });
});
