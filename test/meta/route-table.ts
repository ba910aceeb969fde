import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const LIST_ROUTES = join(ROOT, 'dist', 'src', 'common', 'meta', 'list-routes.js');

/** The modes whose route tables are snapshotted, each built from the real bootstrap. */
export const MODES = {
  'single-user': 'demo',
  'multi-user': join(__dirname, 'fixtures', 'multi-user.yml'),
} as const;

export type Mode = keyof typeof MODES;

export interface ListedRoute {
  method: string;
  path: string;
  access: 'public' | 'authenticated' | 'scopes' | 'undeclared' | 'unguarded';
  scopes: string[];
  source: string;
  /** The entry as the snapshot prints it. */
  line: string;
}

async function run(args: string[]): Promise<string> {
  if (!existsSync(LIST_ROUTES)) throw new Error(`${LIST_ROUTES} is missing: build first (npx tsc -p tsconfig.build.json)`);
  const child = spawn(process.execPath, [LIST_ROUTES, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`list-routes ${args.join(' ')} exited with ${code}:\n${stderr}`);
  return stdout;
}

const listed = new Map<Mode, Promise<ListedRoute[]>>();

/** The route table of one mode (built once per test file: each build takes a couple of seconds). */
export function routeEntries(mode: Mode): Promise<ListedRoute[]> {
  let entries = listed.get(mode);
  if (!entries) {
    entries = run([MODES[mode], '--json']).then((text) => JSON.parse(text) as ListedRoute[]);
    listed.set(mode, entries);
  }
  return entries;
}

/** The snapshot text: one `METHOD path → access` line per route. */
export async function routeLines(mode: Mode): Promise<string> {
  return (await routeEntries(mode)).map((entry) => `${entry.line}\n`).join('');
}

export function snapshotPath(mode: Mode): string {
  return join(__dirname, `routes.${mode}.txt`);
}

/** `UPDATE_ROUTE_SNAPSHOT=1` rewrites the committed snapshot; review its diff as a permission change. */
export function compareOrUpdate(mode: Mode, actual: string): { expected: string; actual: string } {
  const file = snapshotPath(mode);
  if (process.env.UPDATE_ROUTE_SNAPSHOT === '1' || !existsSync(file)) writeFileSync(file, actual);
  return { expected: readFileSync(file, 'utf8'), actual };
}
