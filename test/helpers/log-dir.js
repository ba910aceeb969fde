const { mkdirSync, readdirSync, rmSync, statSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const KEEP_MS = 24 * 60 * 60 * 1000;

/**
 * A fresh directory for one test run's server logs (test/helpers/log-capture.ts). Runs older than a
 * day are removed; recent ones stay for a look after a failure.
 */
function createRunLogDir() {
  const root = join(tmpdir(), 'tiled-test-logs');
  mkdirSync(root, { recursive: true });
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (Date.now() - statSync(path).mtimeMs > KEEP_MS) rmSync(path, { recursive: true, force: true });
  }
  const dir = join(root, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(dir);
  return dir;
}

module.exports = { createRunLogDir };
