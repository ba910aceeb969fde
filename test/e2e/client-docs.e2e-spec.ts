import { join } from 'node:path';
import { docBlocks, printedLines, runTsExample } from '../helpers/doc-runner';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const PAGE = join(__dirname, '..', '..', 'docs', 'client.md');
const KEY = 'd'.repeat(64);

describe('docs/client.md examples, run as a package consumer against `tiled serve demo`', () => {
  const examples = docBlocks(PAGE).filter((block) => block.kind === 'ts');
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTiled(['serve', 'demo', '--api-key', KEY]);
  });
  afterAll(async () => server.stop());

  it('has examples to run', () => expect(examples.length).toBeGreaterThanOrEqual(4));

  for (const example of examples) {
    it(`example at line ${example.line} prints what its comments say`, async () => {
      const source = example.body.join('\n').split('http://localhost:8000').join(server.url);
      const result = await runTsExample(source, { TILED_API_KEY: KEY, TILED_CACHE_DIR: join(__dirname, 'no-such-cache') });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.trim().split('\n')).toEqual(printedLines(source));
    });
  }
});
