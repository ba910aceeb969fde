import { join } from 'node:path';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { header, loadCapture } from './capture';
import { compareExchange } from './compare';
import { SINGLE_USER_KNOWN_DIFFERENCES } from './expectations';
import { Replayer } from './replay';

const TREE = `${join(__dirname, 'fixtures', 'reference-tree.js')}:tree`;
/** Built in under Tiled's name (src/catalog/tree/generated-minimal.ts), as Tiled's example configurations name it. */
const GENERATED_MINIMAL = 'tiled.examples.generated_minimal:tree';

/**
 * 20–22 were recorded against `tiled serve pyobject ref_tree:tree` with these flags, 23 against
 * Tiled's generated_minimal example, 24-serve-demo against `tiled serve demo`, 24-serve-catalog against
 * `tiled serve catalog --temp`.
 */
const RUNS: { file: string; args: string[]; key?: string; tree?: string; command?: string[] }[] = [
  { file: '20-single-user-pyobject.txt', args: [] },
  { file: '21-single-user-fixed-key.txt', args: ['--api-key', 'secret'], key: 'secret' },
  { file: '22-single-user-public.txt', args: ['--public'] },
  { file: '23-single-user-generated-minimal.txt', args: [], tree: GENERATED_MINIMAL },
  // Tiled's `serve demo` is public by default; ours needs the flag (docs/compatibility.md).
  { file: '24-serve-demo.txt', args: ['--public'], command: ['serve', 'demo'] },
  // A fresh writable catalog: the capture creates a container in it with POST /metadata/.
  { file: '24-serve-catalog.txt', args: ['--temp'], command: ['serve', 'catalog'] },
];

describe.each(RUNS)('replay of $file against tiled-ts serve module', ({ file, args, key, tree, command }) => {
  let server: RunningServer;
  let replayer: Replayer;
  const exchanges = loadCapture(file);

  beforeAll(async () => {
    server = await startTiled([...(command ?? ['serve', 'module', tree ?? TREE]), ...args], { env: { TILED_SINGLE_USER_API_KEY: undefined } });
    replayer = new Replayer(server.url, { capturedOrigins: ['http://127.0.0.1:8001'] });
    const capturedKey = exchanges
      .map((e) => /api_key=([0-9a-f]{64})/.exec(e.request.target)?.[1] ?? /^Apikey ([0-9a-f]{64})$/.exec(header(e.request.headers, 'authorization') ?? '')?.[1])
      .find(Boolean);
    const ours = key ?? server.printedKey;
    if (capturedKey && ours) replayer.learn(capturedKey, ours);
  });
  afterAll(async () => server?.stop());

  it('prints the key it will accept (or uses the fixed one)', () => {
    expect(key ?? server.printedKey).toMatch(key ? /^secret$/ : /^[0-9a-f]{64}$/);
  });

  for (const exchange of exchanges) {
    it(`${exchange.title}: ${exchange.request.method} ${exchange.request.target.slice(0, 60)}`, async () => {
      const answer = await replayer.replay(exchange);
      expect(compareExchange(exchange, answer, replayer, SINGLE_USER_KNOWN_DIFFERENCES[`${file} ${exchange.title}`] ?? SINGLE_USER_KNOWN_DIFFERENCES[exchange.title])).toEqual([]);
    });
  }
});
