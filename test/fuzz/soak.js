#!/usr/bin/env node
'use strict';
/**
 * `npm run fuzz -- --cases 1000000`: the fuzz suite (test/fuzz/fuzz.e2e-spec.ts) as a long soak. It runs
 * through Jest like every other spec, so it needs no build of its own; every distinct failure is
 * collected instead of stopping at the first. See docs/fuzzing.md.
 */
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { parseArgs } = require('node:util');

const usage = 'usage: npm run fuzz -- [--cases N] [--seed S] [--mode single-user|multi-user] [--concurrency C] [--path P] [--stop-at-first]';
let values;
try {
  ({ values } = parseArgs({
    options: {
      cases: { type: 'string', default: '1000000' },
      seed: { type: 'string' },
      mode: { type: 'string' },
      concurrency: { type: 'string' },
      path: { type: 'string' },
      'stop-at-first': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (error) {
  console.error(`${error.message}\n${usage}`);
  process.exit(2);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
for (const name of ['cases', 'seed', 'concurrency']) {
  if (values[name] !== undefined && !/^\d+$/.test(values[name])) {
    console.error(`--${name} must be a whole number, not ${JSON.stringify(values[name])}\n${usage}`);
    process.exit(2);
  }
}
if (values.mode !== undefined && !['single-user', 'multi-user'].includes(values.mode)) {
  console.error(`--mode must be single-user or multi-user, not ${JSON.stringify(values.mode)}\n${usage}`);
  process.exit(2);
}

const root = join(__dirname, '..', '..');
const env = {
  ...process.env,
  FUZZ_CASES: values.cases,
  FUZZ_KEEP_GOING: values['stop-at-first'] ? '0' : '1',
  FUZZ_PROGRESS: '1',
  ...(values.seed !== undefined && { FUZZ_SEED: values.seed }),
  ...(values.mode !== undefined && { FUZZ_MODE: values.mode }),
  ...(values.concurrency !== undefined && { FUZZ_CONCURRENCY: values.concurrency }),
  ...(values.path !== undefined && { FUZZ_PATH: values.path }),
};
const jest = require.resolve('jest/bin/jest', { paths: [root] });
const result = spawnSync(process.execPath, [jest, '--runInBand', 'test/fuzz/fuzz.e2e-spec.ts'], { cwd: root, env, stdio: 'inherit' });
process.exit(result.status ?? 1);
