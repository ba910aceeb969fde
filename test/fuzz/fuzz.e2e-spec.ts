import { Mode } from '../meta/route-table';
import { formatFailures, formatReport, fuzz, FuzzOptions, LIMITS } from './fuzzer';
import { FuzzTarget, startMultiUser, startSingleUser } from './targets';

/**
 * Issue 8's fuzz suite: random requests against every route of both route snapshots, on real server
 * processes over loopback. docs/fuzzing.md says what is generated, the properties, and how to replay a
 * failure or run the long soak (`npm run fuzz -- --cases 1000000`).
 */

function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be a whole number, not ${JSON.stringify(raw)}`);
  return value;
}

const TOTAL = integer('FUZZ_CASES', 20_000);
const SEED = integer('FUZZ_SEED', Math.floor(Math.random() * 2 ** 31));
const ONLY = process.env.FUZZ_MODE as Mode | undefined;
const MODES: Mode[] = ONLY ? [ONLY] : ['single-user', 'multi-user'];

const options = (mode: Mode): FuzzOptions => ({
  cases: Math.ceil(TOTAL / MODES.length),
  seed: SEED,
  path: process.env.FUZZ_PATH || undefined,
  concurrency: integer('FUZZ_CONCURRENCY', 4),
  batch: 48,
  keepGoing: process.env.FUZZ_KEEP_GOING === '1',
  progress: process.env.FUZZ_PROGRESS === '1',
  mode,
});

// A soak of a million cases takes hours; a CI run of 20,000 about a minute.
const timeout = 60_000 + TOTAL * 20;

describe.each(MODES)('fuzzing every %s route', (mode) => {
  let target: FuzzTarget | undefined;

  beforeAll(async () => {
    target = mode === 'single-user' ? await startSingleUser() : await startMultiUser();
  }, 60_000);
  afterAll(async () => target?.stop());

  it(
    `should answer every request without a 5xx, within ${LIMITS.responseMs} ms, echoing no secret, with /healthz within ${LIMITS.healthzMs} ms`,
    async () => {
      if (!target) throw new Error('the server did not start');
      console.log(`fuzzing ${mode} with FUZZ_SEED=${SEED} FUZZ_CASES=${TOTAL}`);
      const report = await fuzz(target, options(mode));
      console.log(formatReport(target, report));
      if (report.failures.length > 0) {
        throw new Error(`fuzzing ${mode} (FUZZ_SEED=${SEED}) found ${report.failures.length} distinct failures:\n\n${formatFailures(report.failures)}`);
      }
      expect(report.cases).toBeGreaterThanOrEqual(options(mode).path ? 1 : options(mode).cases);
      expect(report.healthzSlow).toEqual([]);
      expect(report.healthzMaxMs).toBeLessThan(LIMITS.healthzMs);
      expect(target.server.process.exitCode).toBeNull();
    },
    timeout,
  );
});
