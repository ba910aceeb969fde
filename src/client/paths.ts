import envPaths from 'env-paths';
import { join } from 'node:path';

/** Read per call, not at import, so tests (or a wrapping tool) can point HOME/XDG/TILED_* elsewhere. */
function userDirs(): { config: string; cache: string } {
  const paths = envPaths('tiled', { suffix: '' });
  return { config: paths.config, cache: paths.cache };
}

/**
 * Tiled 0.2.16's profile search path, lowest precedence first, duplicates removed.
 * `TILED_PROFILES_DIR` is accepted as a synonym of Tiled's `TILED_PROFILES`.
 */
export function profileSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const site = env.TILED_SITE_PROFILES;
  const user = env.TILED_PROFILES ?? env.TILED_PROFILES_DIR;
  const prefix = join(process.execPath, '..', '..', 'etc', 'tiled', 'profiles');
  const dirs = [
    site ?? '/etc/tiled/profiles',
    site ?? '/etc/xdg/tiled/profiles',
    prefix,
    user ?? join(env.HOME ?? '', '.config', 'tiled', 'profiles'),
    user ?? join(userDirs().config, 'profiles'),
  ];
  return [...new Set(dirs)];
}

/** Where `tiled profile create` writes: the last (highest-precedence) entry. */
export function userProfileDir(env: NodeJS.ProcessEnv = process.env): string {
  const path = profileSearchPath(env);
  return path[path.length - 1];
}

/** The default profile name lives next to the user profile directory, as in Tiled. */
export function defaultProfileFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(userProfileDir(env), '..', 'default_profile');
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TILED_CACHE_DIR ?? userDirs().cache;
}
