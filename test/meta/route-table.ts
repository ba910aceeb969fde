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

/** A route as docs/http-api.md shows it: `x` and `x/*` folded into `x/{path}`, `:name` as `{name}`. */
export interface DocRoute {
  method: string;
  path: string;
  /** `public`, `authenticated`, or the required scopes as `a, b`. */
  access: string;
  /** `all`, or the one mode that has the route. */
  modes: string;
}

function displayAccess(route: ListedRoute): string {
  return route.access === 'scopes' ? route.scopes.join(', ') : route.access;
}

function displayPath(path: string): string {
  return path.replace(/\/\*$/, '/{path}').replace(/:([A-Za-z_]\w*)/g, '{$1}');
}

/** The rows docs/http-api.md must have, derived from the route tables of every mode. */
export async function expectedDocRoutes(): Promise<DocRoute[]> {
  const modes = Object.keys(MODES) as Mode[];
  const rows = new Map<string, DocRoute & { in: Set<Mode> }>();
  for (const mode of modes) {
    const entries = await routeEntries(mode);
    const keys = new Set(entries.map((e) => `${e.method} ${e.path} ${displayAccess(e)}`));
    for (const entry of entries) {
      // `x` is the same route as `x/*` with an empty path; list it once.
      if (keys.has(`${entry.method} ${entry.path}/* ${displayAccess(entry)}`)) continue;
      const path = displayPath(entry.path);
      const key = `${entry.method} ${path} ${displayAccess(entry)}`;
      const row = rows.get(key) ?? { method: entry.method, path, access: displayAccess(entry), modes: '', in: new Set<Mode>() };
      row.in.add(mode);
      rows.set(key, row);
    }
  }
  return [...rows.values()].map(({ in: present, ...row }) => ({ ...row, modes: present.size === modes.length ? 'all' : [...present].join(', ') }));
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'ALL']);

/** Rows of every Markdown table in the document whose first cell is an HTTP method. */
export function documentedRoutes(markdown: string): DocRoute[] {
  const rows: DocRoute[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim().replace(/`/g, ''));
    if (cells.length < 4 || !METHODS.has(cells[0])) continue;
    rows.push({ method: cells[0], path: cells[1], access: cells[2], modes: cells[3] });
  }
  return rows;
}

export function formatDocRoute(row: DocRoute): string {
  const access = row.access === 'public' || row.access === 'authenticated' ? row.access : row.access.split(', ').map((s) => `\`${s}\``).join(', ');
  return `| ${row.method} | \`${row.path}\` | ${access} | ${row.modes} | … |`;
}
