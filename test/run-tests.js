#!/usr/bin/env node
/**
 * `npm test`: the whole suite in two phases sharing one log directory (test/helpers/log-capture.ts).
 *
 * Most specs spend more than half their time waiting on other processes (servers starting, browsers,
 * databases), so they run on parallel Jest workers. The specs whose outcome depends on how quickly the
 * server answers (the fuzz suite, the event-loop guard, login throttling) would measure their
 * neighbours instead, so they run afterwards, one at a time, followed by the whole-suite log scan,
 * which reads the logs of both phases.
 *
 * `npm test -- <jest args>` runs Jest once, in band, with those arguments (a spec path, `-t name`, …).
 * TILED_TEST_WORKERS sets the workers of the first phase (default: the number of CPUs, at least 2).
 */
const { spawnSync } = require('node:child_process');
const { availableParallelism } = require('node:os');
const { join } = require('node:path');

const JEST = [
  '--experimental-vm-modules',
  '--disable-warning=ExperimentalWarning',
  join(__dirname, '..', 'node_modules', 'jest', 'bin', 'jest.js'),
];

/**
 * Specs that time the server (login throttling counts on a burst arriving within its one-second first
 * wait), and the log scan that must come last.
 */
const ALONE = ['test/fuzz/', 'test/e2e/hostile-requests.e2e-spec.ts', 'test/e2e/login-throttle.e2e-spec.ts', 'test/meta/log-scan.e2e-spec.ts'];

function jest(args, env) {
  const result = spawnSync(process.execPath, [...JEST, ...args], { stdio: 'inherit', env });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const passThrough = process.argv.slice(2);
if (passThrough.length > 0) process.exit(jest(['--runInBand', ...passThrough], process.env));

// One log directory for both phases; the Jest globalSetup creates it and keeps one that is set.
const { createRunLogDir } = require('./helpers/log-dir.js');
const env = { ...process.env, TILED_TEST_LOG_DIR: createRunLogDir() };
const workers = Number(process.env.TILED_TEST_WORKERS) || Math.max(2, availableParallelism());
const escaped = ALONE.map((path) => path.replace(/[.]/g, '\\.'));

console.log(`\n=== Phase 1 of 2: every spec but the timing ones, on ${workers} workers ===\n`);
const first = jest([`--maxWorkers=${workers}`, ...escaped.flatMap((p) => ['--testPathIgnorePatterns', p])], env);
console.log(`\n=== Phase 2 of 2: ${ALONE.join(', ')}, one at a time ===\n`);
const second = jest(['--runInBand', ...escaped], env);
if (first !== 0 || second !== 0) {
  console.error(`\nnpm test failed: ${[first !== 0 && 'phase 1', second !== 0 && 'phase 2'].filter(Boolean).join(' and ')} (see above)`);
  process.exit(1);
}
