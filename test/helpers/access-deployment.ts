import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';

/**
 * The deployment of docs/access-control.md as the suites over real HTTP serve it: the dictionary provider
 * `toy` (each user's password is `<user>-pw`), `admin` in `tiled_admins`, anonymous reads allowed, and the
 * page's own `access_control:` block over Tiled's compiled tags database (written into the test's folder).
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'access');
const DOC = readFileSync(join(__dirname, '..', '..', 'docs', 'access-control.md'), 'utf8');

/** The first fenced block of language `lang` after the text `after` in docs/access-control.md. */
export function accessDocBlock(after: string, lang: string): string {
  const start = DOC.indexOf(after);
  const fence = DOC.indexOf(`\`\`\`${lang}\n`, start);
  return DOC.slice(fence + lang.length + 4, DOC.indexOf('\n```', fence + 3));
}

/** Tiled's compiled tags database (test/fixtures/access/tiled-compiled-tags.sql) as `dir/compiled_tags.sqlite`, where the doc's config names it. */
export function writeCompiledTags(dir: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as new (file: string) => { exec(sql: string): void; close(): void };
  const tags = new Database(join(dir, 'compiled_tags.sqlite'));
  tags.exec(readFileSync(join(FIXTURES, 'tiled-compiled-tags.sql'), 'utf8'));
  tags.close();
}

/** The whole configuration for `trees`, with the auth database in `dir`. */
export function accessDeploymentConfig(dir: string, users: readonly string[], trees: unknown[]): Record<string, unknown> {
  return {
    trees,
    authentication: {
      providers: [{ provider: 'toy', authenticator: 'tiled.authenticators:DictionaryAuthenticator', args: { users_to_passwords: Object.fromEntries(users.map((u) => [u, `${u}-pw`])) } }],
      tiled_admins: [{ provider: 'toy', id: 'admin' }],
      allow_anonymous_access: true,
      secret_keys: ['access-e2e-signing-key'],
    },
    database: { uri: `sqlite:///${join(dir, 'auth.db')}`, init_if_not_exists: true },
    ...(yaml.load(accessDocBlock('## Configuration', 'yaml')) as Record<string, unknown>),
  };
}

/** An access token of `user` from the toy provider's password route. */
export async function toyLogin(api: string, user: string): Promise<string> {
  const response = await fetch(`${api}/auth/provider/toy/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user, password: `${user}-pw` }).toString(),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}
