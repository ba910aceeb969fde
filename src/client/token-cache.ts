import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './paths';

export interface Tokens {
  access_token?: string;
  refresh_token?: string;
}

const TOKEN_FILES = ['access_token', 'refresh_token', 'id_token'] as const;

/** Python's `urllib.parse.quote_plus`: only letters, digits and `_.-~` stay literal; space becomes `+`. */
export function quotePlus(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'))
    .map((byte) => {
      const char = String.fromCharCode(byte);
      if (/[A-Za-z0-9_.\-~]/.test(char)) return char;
      if (char === ' ') return '+';
      return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/**
 * Tokens of one server, one file per token as Tiled's client keeps them
 * (`$TILED_CACHE_DIR/tokens/<quote_plus(api uri)>/`), readable only by the user.
 */
export class TokenCache {
  readonly directory: string;

  constructor(apiUri: string, base: string = join(cacheDir(), 'tokens')) {
    this.directory = join(base, quotePlus(apiUri));
  }

  read(): Tokens {
    const tokens: Tokens = {};
    for (const name of ['access_token', 'refresh_token'] as const) {
      const file = join(this.directory, name);
      if (existsSync(file)) {
        const value = readFileSync(file, 'utf8').trim();
        if (value) tokens[name] = value;
      }
    }
    return tokens;
  }

  write(tokens: Tokens): void {
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    for (const name of ['access_token', 'refresh_token'] as const) {
      const value = tokens[name];
      if (!value) continue;
      const file = join(this.directory, name);
      // Remove first: writeFileSync's mode applies only when it creates the file.
      rmSync(file, { force: true });
      writeFileSync(file, value, { mode: 0o600 });
      chmodSync(file, 0o600);
    }
  }

  clear(): void {
    for (const name of TOKEN_FILES) rmSync(join(this.directory, name), { force: true });
  }

  clearRefreshToken(): void {
    rmSync(join(this.directory, 'refresh_token'), { force: true });
    rmSync(join(this.directory, 'access_token'), { force: true });
  }
}
