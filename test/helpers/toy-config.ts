import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';

export interface ToyConfigOptions {
  /** username → password of the dictionary provider `toy`. */
  users: Record<string, string>;
  /** Omitted: no `database` section (a transient in-memory database). */
  databaseUri?: string;
  /** Default true; false makes the server take the schema as it finds it. */
  initIfNotExists?: boolean;
  /** Usernames of `toy` listed in `tiled_admins`. */
  admins?: string[];
  /** Replicas that must verify each other's tokens share these. */
  secretKeys?: string[];
}

/** A multi-user configuration as most e2e suites need it: the demo tree and the dictionary provider `toy`. */
export function toyConfig(options: ToyConfigOptions): string {
  const authentication: Record<string, unknown> = {
    providers: [{ provider: 'toy', authenticator: 'dictionary', args: { users_to_passwords: options.users } }],
  };
  if (options.admins) authentication.tiled_admins = options.admins.map((id) => ({ provider: 'toy', id }));
  if (options.secretKeys) authentication.secret_keys = options.secretKeys;
  const config: Record<string, unknown> = { trees: [{ path: '/', tree: 'demo' }], authentication };
  if (options.databaseUri) {
    config.database = { uri: options.databaseUri, ...(options.initIfNotExists === false ? {} : { init_if_not_exists: true }) };
  }
  return yaml.dump(config);
}

/** Write {@link toyConfig} to `dir/name` and return the file's path. */
export function writeToyConfig(dir: string, options: ToyConfigOptions, name = 'config.yml'): string {
  const file = join(dir, name);
  writeFileSync(file, toyConfig(options));
  return file;
}
