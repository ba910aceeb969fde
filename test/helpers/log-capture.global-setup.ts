import { existsSync } from 'node:fs';
import { LOG_DIR_ENV } from './log-capture';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createRunLogDir } = require('./log-dir.js') as { createRunLogDir: () => string };

/**
 * One directory per test run for the log scan (log-capture.ts); workers start after this runs and
 * inherit the variable. `npm test` (test/run-tests.js) creates it itself, so that its two Jest phases
 * share it and the scan, run last, reads the logs of both.
 */
export default function globalSetup(): void {
  const given = process.env[LOG_DIR_ENV];
  if (given && existsSync(given)) return;
  process.env[LOG_DIR_ENV] = createRunLogDir();
}
