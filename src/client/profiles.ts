import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as yaml from 'js-yaml';
import { defaultProfileFile, profileSearchPath, userProfileDir } from './paths';

/** The client-side profile content, as Tiled 0.2.16 writes it; only `uri` and `verify` are used by tiled-ts. */
export interface Profile {
  uri?: string;
  direct?: unknown;
  verify?: boolean;
  headers?: Record<string, string>;
  [key: string]: unknown;
}

export interface ProfileEntry {
  name: string;
  source: string;
  profile: Profile;
}

const ALLOWED_KEYS = new Set([
  'uri',
  'direct',
  'verify',
  'headers',
  'structure_clients',
  'cache',
  'timeout',
  'token_cache',
  'max_connections',
  'username',
  'auth_provider',
]);

export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

function expandEnv(text: string): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const value = process.env[braced ?? bare ?? ''];
    return value === undefined ? whole : value;
  });
}

function validate(name: string, content: unknown, source: string): Profile {
  if (!content || typeof content !== 'object' || Array.isArray(content)) {
    throw new ProfileError(`${source}: profile '${name}' must be a mapping`);
  }
  const profile = content as Profile;
  const unknown = Object.keys(profile).filter((key) => !ALLOWED_KEYS.has(key));
  if (unknown.length) throw new ProfileError(`${source}: profile '${name}' has unknown key(s) ${unknown.join(', ')}`);
  if ((profile.uri === undefined) === (profile.direct === undefined)) {
    throw new ProfileError(`${source}: profile '${name}' needs exactly one of 'uri' or 'direct'`);
  }
  if (profile.uri !== undefined && typeof profile.uri !== 'string') throw new ProfileError(`${source}: profile '${name}'.uri must be a string`);
  return profile;
}

/**
 * Every profile visible on the search path, later directories overriding earlier ones. Two files
 * in one directory defining the same name make that name ambiguous there, so Tiled drops it.
 */
export function loadProfiles(warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): Map<string, ProfileEntry> {
  const merged = new Map<string, ProfileEntry>();
  for (const dir of profileSearchPath()) {
    if (!existsSync(dir)) continue;
    const inDir = new Map<string, ProfileEntry>();
    const collisions = new Set<string>();
    const files = readdirSync(dir)
      .filter((file) => !file.startsWith('.') && /\.ya?ml$/.test(file))
      .sort();
    for (const file of files) {
      const source = join(dir, file);
      let parsed: unknown;
      try {
        parsed = yaml.load(expandEnv(readFileSync(source, 'utf8')));
      } catch (error) {
        warn(`Skipping profile file ${source}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
        continue;
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
        warn(`Skipping profile file ${source}: expected a mapping of profile names to profiles`);
        continue;
      }
      for (const [name, content] of Object.entries(parsed as Record<string, unknown>)) {
        try {
          const profile = validate(name, content, source);
          if (inDir.has(name)) collisions.add(name);
          inDir.set(name, { name, source, profile });
        } catch (error) {
          warn(`Skipping ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }
    for (const name of collisions) {
      warn(`Profile '${name}' is defined in more than one file in ${dir}; it is ignored there.`);
      inDir.delete(name);
      merged.delete(name);
    }
    for (const [name, entry] of inDir) merged.set(name, entry);
  }
  return merged;
}

export function getDefaultProfileName(): string | undefined {
  const file = defaultProfileFile();
  if (!existsSync(file)) return undefined;
  const name = readFileSync(file, 'utf8').trim();
  return name || undefined;
}

export function setDefaultProfileName(name: string): void {
  if (!loadProfiles(() => undefined).has(name)) {
    throw new ProfileError(`The profile '${name}' could not be found. Use tiled profile list to see profile names.`);
  }
  const file = defaultProfileFile();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, name);
}

export function clearDefaultProfile(): void {
  const file = defaultProfileFile();
  if (existsSync(file)) unlinkSync(file);
}

function sortedKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, value[key]]));
}

export function profileYaml(profile: Profile): string {
  return yaml.dump(sortedKeys(profile));
}

/** Write `<user dir>/<name>.yml` as Tiled does; returns the file path. */
export function createProfile(name: string, uri: string, options: { verify?: boolean; overwrite?: boolean } = {}): string {
  if (!/^[\w.-]+$/.test(name)) throw new ProfileError(`Profile name '${name}' may only contain letters, digits, '_', '.' and '-'`);
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    throw new ProfileError(`'${uri}' is not a URL; expected something like http://localhost:8000`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ProfileError(`'${uri}' must start with http:// or https://`);
  const dir = userProfileDir();
  const file = join(dir, `${name}.yml`);
  if (existsSync(file) && !options.overwrite) {
    throw new ProfileError(`A profile named '${name}' already exists. Use --overwrite to overwrite it.`);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, yaml.dump({ [name]: sortedKeys({ uri, verify: options.verify ?? true }) }));
  return file;
}

/** Delete the profile file; Tiled walks the search path from its lowest-precedence entry. */
export function deleteProfile(name: string): string | undefined {
  if (getDefaultProfileName() === name) clearDefaultProfile();
  for (const dir of profileSearchPath()) {
    for (const ext of ['yml', 'yaml']) {
      const file = join(dir, `${name}.${ext}`);
      if (existsSync(file)) {
        unlinkSync(file);
        return file;
      }
    }
  }
  return undefined;
}

/**
 * The profile other commands use: the named one, else the default, else the only one there is.
 * Errors carry Tiled's hints so the user knows what to run next.
 */
export function resolveProfile(name?: string): ProfileEntry {
  const profiles = loadProfiles();
  const chosen = name ?? process.env.TILED_PROFILE;
  if (chosen) {
    const entry = profiles.get(chosen);
    if (!entry) throw new ProfileError(`Profile '${chosen}' could not be found. Use: tiled profile list to list choices.`);
    return entry;
  }
  const defaultName = getDefaultProfileName();
  if (defaultName) {
    const entry = profiles.get(defaultName);
    if (entry) return entry;
    clearDefaultProfile();
  }
  if (profiles.size === 1) return [...profiles.values()][0];
  throw new ProfileError(
    'No default profile set. Use: tiled profile create <URI>, or tiled profile set-default <NAME>, or pass --profile=PROFILE',
  );
}
