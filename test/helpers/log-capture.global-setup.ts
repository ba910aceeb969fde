import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_DIR_ENV } from './log-capture';

const KEEP_MS = 24 * 60 * 60 * 1000;

/**
 * One directory per Jest run for the log scan (log-capture.ts). Workers start after this runs and
 * inherit the variable. Runs older than a day are removed; recent ones stay for a look after a failure.
 */
export default function globalSetup(): void {
  const root = join(tmpdir(), 'tiled-test-logs');
  mkdirSync(root, { recursive: true });
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { recursive: true, force: true });
  }
  const dir = join(root, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(dir);
  process.env[LOG_DIR_ENV] = dir;
}
