import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const STORAGE = join(__dirname, '..', '..', 'dist', 'src', 'catalog', 'storage');
const SIDE = 512;
const CHUNKS = 4;

/**
 * The writer fills each 2 MiB chunk (which fs writes in several calls) with its version number, round after
 * round, so a chunk cut short or mixing two versions is visible after the kill.
 */
const WRITER = `
  const s = require(${JSON.stringify(STORAGE)});
  const side = ${SIDE}, chunks = ${CHUNKS};
  const structure = { data_type: { endianness: 'little', kind: 'f', itemsize: 8 }, shape: [side * chunks, side], chunks: [Array(chunks).fill(side), [side]], dims: null };
  (async () => {
    await s.createZarrArray(process.argv[1], structure);
    for (let version = 1; ; version++) {
      await Promise.all(Array.from({ length: chunks }, (_, i) => s.writeZarrBlock(process.argv[1], structure, [i, 0], new Uint8Array(new Float64Array(side * side).fill(version).buffer))));
      process.stdout.write(version + '\\n');
    }
  })();
`;

/** Writers still running, killed before the folder goes if a test fails or times out first. */
const running = new Set<ReturnType<typeof spawn>>();

/** Runs the writer and kills it with SIGKILL halfway through a round of chunk writes. */
async function writeAndKill(array: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', WRITER, array], { stdio: ['ignore', 'pipe', 'inherit'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const rounds: number[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().trim().split('\n')) if (line) rounds.push(performance.now());
    if (rounds.length === 4) {
      const round = (rounds[3] - rounds[1]) / 2;
      setTimeout(() => child.kill('SIGKILL'), round / 2);
    }
  });
  expect(await exited).toBeNull();
  expect(child.signalCode).toBe('SIGKILL');
}

describe('Zarr storage after kill -9', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tiled-crash-'));
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('should leave every chunk whole, of one version, and only temporary files to remove', async () => {
    const { removeTemporaryFiles } = (await import(STORAGE)) as typeof import('../../src/catalog/storage');
    // Three kills: one landing between two rounds would prove nothing, and where each lands varies.
    for (const attempt of [1, 2, 3]) {
      const array = join(dir, `array${attempt}`);
      await writeAndKill(array);
      await removeTemporaryFiles(array);
      expect((await readdir(join(array, 'c'), { recursive: true })).sort()).toEqual(['0', '0/0', '1', '1/0', '2', '2/0', '3', '3/0']);
      for (let i = 0; i < CHUNKS; i++) {
        const values = new Float64Array(new Uint8Array(await readFile(join(array, 'c', String(i), '0'))).buffer);
        expect(values.length).toBe(SIDE * SIDE);
        expect(new Set(values).size).toBe(1);
      }
    }
    // Each round writes and syncs 8 MiB; on a machine whose disk other suites keep busy, syncs take seconds.
  }, 180_000);
});
