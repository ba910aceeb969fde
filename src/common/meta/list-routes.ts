import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { configForTree, loadConfig } from '../../config/config-loader';
import { createApp } from '../../server/bootstrap';
import { fastifyRoutes, formatRoute, nestRoutes, routeTable } from './route-table';

/**
 * Print the route → scope table of the app built exactly as `tiled serve` builds it.
 *
 *   node dist/src/common/meta/list-routes.js demo            # single-user, the demo tree
 *   node dist/src/common/meta/list-routes.js <config.yml>    # whatever mode the config selects
 *   … --json                                                 # entries, each with its printed `line`
 *
 * Runs in its own process because Nest 12 is ESM-only and Jest cannot load it.
 */
async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const source = argv.find((arg) => !arg.startsWith('--')) ?? 'demo';
  const config = source === 'demo' ? configForTree('demo', process.cwd()) : await loadConfig(source);
  // Startup logging (plugins, database warnings) goes to stdout; keep stdout for the table alone.
  const stdoutWrite = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  let table;
  try {
    const { app } = await createApp(config, { apiKey: randomBytes(16).toString('hex') });
    await app.init();
    table = routeTable(nestRoutes(app), await fastifyRoutes(app));
    await app.close();
  } finally {
    process.stdout.write = stdoutWrite;
  }
  const output = json
    ? `${JSON.stringify(table.map((entry) => ({ ...entry, line: formatRoute(entry) })), null, 2)}\n`
    : table.map((entry) => `${formatRoute(entry)}\n`).join('');
  process.stdout.write(output);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`list-routes: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
