import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function ownVersion(): string {
  for (const candidate of [join(__dirname, '..', '..', 'package.json'), join(__dirname, '..', '..', '..', 'package.json')]) {
    try {
      const parsed = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === 'tiled-ts' && parsed.version) return parsed.version;
    } catch {
      // try the next layout (ts-jest runs from src/, the build from dist/src/)
    }
  }
  return '0.0.0';
}

/** This package's version, from its package.json. */
export const TILED_TS_VERSION = ownVersion();
