import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import Ajv, { ErrorObject } from 'ajv';
import * as yaml from 'js-yaml';
import {
  AppConfig,
  AuthenticationConfig,
  DatabaseConfig,
  DEFAULT_AUTHENTICATION,
  DEFAULT_METRICS,
  DEFAULT_SERVER,
  ProviderConfig,
  TreeMountConfig,
} from './app-config';
import { CONCATENATED_KEYS, CONFIG_SCHEMA, JsonSchema } from './config.schema';
import { parseDuration } from './duration';
import { PROXIED_AUTHENTICATOR_SPECS, proxiedProviderProblems } from '../plugin-host/builtins';
import { expandEnvironment, formatKeyPath, KeyPath, looksSecret, toPointer } from './env-expansion';

/** A configuration problem: the message names the file, the key path and what was expected. */
export class ConfigError extends Error {
  /** One line per problem (all problems found, not just the first). */
  readonly errors: string[];

  constructor(message: string, errors?: string[]) {
    super(message);
    this.name = 'ConfigError';
    this.errors = errors ?? [message];
  }
}

/** `tiled serve config` without an argument: TILED_CONFIG, else ./config.yml (as Tiled). */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.TILED_CONFIG || 'config.yml';
}

/**
 * Load a YAML configuration file or a directory of them: parse, expand `${VAR}`, merge, validate against
 * CONFIG_SCHEMA, apply the TILED_* environment variables, and return a frozen AppConfig.
 * Throws one ConfigError listing every problem found.
 */
export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<AppConfig> {
  const sources = await readSources(path, env);
  // Checking the rest of a file YAML could not parse would only add confusing follow-on errors.
  if (sources.unparsable) throw invalid(path, sources.problems);
  return buildConfig(sources, { source: path, configDir: sources.configDir }, env);
}

/**
 * The configuration for serving one tree without a YAML file (`tiled serve module`, `serve demo`),
 * still honouring the TILED_* environment variables exactly as a YAML configuration would.
 */
export function configForTree(tree: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): AppConfig {
  const sources: Sources = {
    configDir: baseDir,
    files: [],
    merged: { trees: [{ path: '/', tree }] },
    problems: [],
    locate: (path) => (path[0] === 'trees' ? { file: 'command line', path: ['specifier'] } : { file: 'command line', path }),
    secretPointers: new Set(),
    skipPointers: new Set(),
  };
  return buildConfig(sources, { configDir: baseDir, label: 'given on the command line and in TILED_* variables' }, env);
}

// ---------------------------------------------------------------------------------------------------------

interface Located {
  file: string;
  path: KeyPath;
}

interface Sources {
  configDir: string;
  files: string[];
  merged: Record<string, unknown>;
  /** Problems found while reading, parsing, expanding and merging. */
  problems: string[];
  /** Some file is not valid YAML. */
  unparsable?: boolean;
  /** Maps a key path in the merged document back to the file and the key path inside that file. */
  locate(path: KeyPath): Located;
  /** Merged-document pointers of values that came from secret-looking environment variables. */
  secretPointers: Set<string>;
  /** Merged-document pointers already reported (e.g. an unset variable); schema errors there are noise. */
  skipPointers: Set<string>;
}

async function readSources(path: string, env: NodeJS.ProcessEnv): Promise<Sources> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch {
    throw new ConfigError(`${path}: no such configuration file or directory`);
  }
  let files: string[];
  if (isDirectory) {
    const entries = await readdir(path, { withFileTypes: true });
    // Sorted, unlike Tiled's iterdir() order, so merged lists come out the same on every machine.
    files = entries
      .filter((entry) => entry.isFile() && /\.ya?ml$/i.test(entry.name))
      .map((entry) => join(path, entry.name))
      .sort();
    if (files.length === 0) throw new ConfigError(`${path}: the directory contains no .yml or .yaml configuration files`);
  } else {
    files = [path];
  }

  const problems: string[] = [];
  let unparsable = false;
  const merged: Record<string, unknown> = {};
  const topOrigin = new Map<string, string>();
  const listOrigin = new Map<string, Located[]>();
  const secretPointers = new Set<string>();
  const skipPointers = new Set<string>();

  for (const file of files) {
    let parsed: unknown;
    try {
      parsed = yaml.load(await readFile(file, 'utf8'), { filename: file, schema: yaml.CORE_SCHEMA });
    } catch (error) {
      problems.push(yamlProblem(file, error));
      unparsable = true;
      continue;
    }
    if (parsed === null || parsed === undefined) continue;
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`${file}: (top level): expected a mapping of configuration keys, got ${describeValue(parsed, false)}`);
      continue;
    }
    const expanded = expandEnvironment(parsed, env);
    const document = expanded.value as Record<string, unknown>;
    for (const problem of expanded.problems) problems.push(`${file}: ${formatKeyPath(problem.path)}: ${problem.message}`);

    // Translate this file's paths into merged-document paths (list items shift when files are concatenated).
    const offsets = new Map<string, number>();
    for (const [key, value] of Object.entries(document)) {
      if (CONCATENATED_KEYS.has(key) && Array.isArray(value) && (merged[key] === undefined || Array.isArray(merged[key]))) {
        const existing = (merged[key] as unknown[] | undefined) ?? [];
        offsets.set(key, existing.length);
        merged[key] = [...existing, ...value];
        const origins = listOrigin.get(key) ?? [];
        value.forEach((_item, index) => origins.push({ file, path: [key, index] }));
        listOrigin.set(key, origins);
        continue;
      }
      const earlier = topOrigin.get(key) ?? listOrigin.get(key)?.[0]?.file;
      if (earlier !== undefined) {
        problems.push(`${file}: ${key}: this key is also set in ${earlier}; only trees, specs and allow_origins may be split across files`);
        continue;
      }
      merged[key] = value;
      topOrigin.set(key, file);
    }
    const toMerged = (path: KeyPath): string => {
      const [key, index, ...rest] = path;
      const offset = offsets.get(String(key));
      return toPointer(offset !== undefined && typeof index === 'number' ? [key, index + offset, ...rest] : path);
    };
    for (const pointer of expanded.secretPointers) secretPointers.add(toMerged(fromPointer(pointer)));
    for (const problem of expanded.problems) skipPointers.add(toMerged(problem.path));
  }

  const whole = files.length === 1 ? files[0] : path;
  const locate = (where: KeyPath): Located => {
    const [key, index, ...rest] = where;
    if (key === undefined) return { file: whole, path: where };
    const origins = listOrigin.get(String(key));
    if (origins && typeof index === 'number' && origins[index]) {
      return { file: origins[index].file, path: [key, origins[index].path[1], ...rest] };
    }
    // A key set nowhere (e.g. a missing `trees`) is a problem of the whole directory, not of one file.
    return { file: topOrigin.get(String(key)) ?? origins?.[0]?.file ?? whole, path: where };
  };

  return {
    configDir: resolve(isDirectory ? path : dirname(path)),
    files,
    merged,
    problems,
    unparsable,
    locate,
    secretPointers,
    skipPointers,
  };
}

function fromPointer(pointer: string): KeyPath {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

function yamlProblem(file: string, error: unknown): string {
  if (error instanceof yaml.YAMLException) {
    const line = error.mark ? `:${error.mark.line + 1}:${error.mark.column + 1}` : '';
    return `${file}${line}: not valid YAML: ${error.reason}`;
  }
  return `${file}: cannot be read: ${error instanceof Error ? error.message : String(error)}`;
}

// ---------------------------------------------------------------------------------------------------------

const ajv = new Ajv({ allErrors: true, coerceTypes: true, allowUnionTypes: true, verbose: true, strict: true });
for (const keyword of ['x-expect', 'x-sensitive', 'x-tiled-ts']) ajv.addKeyword({ keyword, schemaType: ['string', 'boolean'] });
const validateSchema = ajv.compile(CONFIG_SCHEMA);

interface Origin {
  source?: string;
  /** How to name a configuration that has no file, in the error heading. */
  label?: string;
  configDir: string;
}

function buildConfig(sources: Sources, origin: Origin, env: NodeJS.ProcessEnv): AppConfig {
  const problems = [...sources.problems];
  const warnings: string[] = [];
  const data = sources.merged;
  const at = (path: KeyPath, message: string): void => {
    const located = sources.locate(path);
    problems.push(`${located.file}: ${formatKeyPath(located.path)}: ${message}`);
  };
  const secretAt = (path: KeyPath): boolean => looksSecret(path) || sources.secretPointers.has(toPointer(path));

  if (!validateSchema(data)) {
    for (const error of validateSchema.errors ?? []) {
      const reported = schemaProblem(error, data, secretAt);
      if (!reported) continue;
      if (sources.skipPointers.has(toPointer(reported.path))) continue;
      at(reported.path, reported.message);
    }
  }
  reportUnimplementedKeys(data, CONFIG_SCHEMA, [], at, (path, note) => {
    const located = sources.locate(path);
    warnings.push(`${located.file}: ${formatKeyPath(located.path)} is ignored: ${note} is not implemented by tiled-ts`);
  });

  const describe = (path: KeyPath): string => {
    const located = sources.locate(path);
    return `${formatKeyPath(located.path)} in ${located.file}`;
  };
  const trees = buildTrees(data, sources.configDir, at, describe);
  const authentication = buildAuthentication(data, sources.configDir, sources.files, env, at, problems, warnings);
  const database = buildDatabase(data, env, problems);
  const allowOrigins = listFromEnv(data.allow_origins, 'TILED_ALLOW_ORIGINS', env, problems) ?? [];
  const uvicorn = objectAt(data, 'uvicorn') ?? {};
  const metrics = objectAt(data, 'metrics') ?? {};
  const accessControl = objectAt(data, 'access_control');

  if (problems.length > 0) throw invalid(origin.source ?? origin.label ?? 'from the environment', problems);

  const config: AppConfig = {
    source: origin.source,
    configDir: origin.configDir,
    trees,
    authentication,
    database,
    allow_origins: allowOrigins,
    ...(typeof data.write_body_limit === 'number' ? { write_body_limit: data.write_body_limit } : {}),
    ...(typeof data.expose_raw_assets === 'boolean' ? { expose_raw_assets: data.expose_raw_assets } : {}),
    server: {
      host: typeof uvicorn.host === 'string' ? uvicorn.host : DEFAULT_SERVER.host,
      port: typeof uvicorn.port === 'number' ? uvicorn.port : DEFAULT_SERVER.port,
      verbose: false,
    },
    metrics: { prometheus: typeof metrics.prometheus === 'boolean' ? metrics.prometheus : DEFAULT_METRICS.prometheus },
    ...(accessControl && typeof accessControl.access_policy === 'string'
      ? { access_control: { access_policy: accessControl.access_policy, args: objectAt(accessControl, 'args') ?? {}, baseDir: origin.configDir } }
      : {}),
    warnings,
  };
  return deepFreeze(config);
}

function invalid(where: string, problems: string[]): ConfigError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new ConfigError(`Invalid configuration ${where} (${count}):\n  ${problems.join('\n  ')}`, problems);
}

interface SchemaProblem {
  path: KeyPath;
  message: string;
}

function schemaProblem(error: ErrorObject, data: unknown, secretAt: (path: KeyPath) => boolean): SchemaProblem | undefined {
  const path = pointerToPath(error.instancePath, data);
  const schema = (error.parentSchema ?? {}) as JsonSchema;
  const secret = secretAt(path) || schema['x-sensitive'] === true;
  const shown = (value: unknown): string => describeValue(value, secret);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys(schema.properties ?? {});
      return {
        path: [...path, String(params.additionalProperty)],
        message: `unknown key; expected one of: ${allowed.join(', ')}`,
      };
    }
    case 'required':
      return { path: [...path, String(params.missingProperty)], message: 'required key is missing' };
    case 'type':
      return { path, message: `expected ${schema['x-expect'] ?? typeWords(schema.type)}, got ${shown(error.data)}` };
    case 'pattern':
    case 'minLength':
      return { path, message: `expected ${schema['x-expect'] ?? `a string matching ${schema.pattern}`}, got ${shown(error.data)}` };
    case 'minimum':
      return { path, message: `expected a number of at least ${schema.minimum}, got ${shown(error.data)}` };
    case 'maximum':
      return { path, message: `expected a number of at most ${schema.maximum}, got ${shown(error.data)}` };
    case 'minItems':
      return { path, message: `expected at least ${schema.minItems} item(s), got an empty list` };
    default:
      return { path, message: error.message ?? 'is not valid' };
  }
}

function pointerToPath(pointer: string, data: unknown): KeyPath {
  const path: KeyPath = [];
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      path.push(Number(segment));
      node = node[Number(segment)];
    } else {
      path.push(segment);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

function typeWords(type: string | string[] | undefined): string {
  const types = Array.isArray(type) ? type : type ? [type] : [];
  const words = types.map((t) => TYPE_WORDS[t] ?? t);
  return words.length <= 1 ? (words[0] ?? 'a value') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function describeValue(value: unknown, secret: boolean): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (secret) return `a ${typeof value === 'string' ? 'string' : typeof value} [redacted]`;
  if (typeof value === 'string') return `the string ${JSON.stringify(redactUrlPassword(value))}`;
  return `${typeof value === 'boolean' ? 'the value' : 'the number'} ${String(value)}`;
}

/** Passwords inside database URLs are never shown (as Tiled: `[redacted]`). */
export function redactUrlPassword(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*:)[^@\s]*@/g, '$1[redacted]@');
}

function reportUnimplementedKeys(
  data: unknown,
  schema: JsonSchema,
  path: KeyPath,
  at: (path: KeyPath, message: string) => void,
  warn: (path: KeyPath, note: string) => void,
): void {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || !schema.properties) return;
  for (const [key, value] of Object.entries(data)) {
    const child = schema.properties[key];
    if (!child) continue;
    const where = [...path, key];
    if (child['x-tiled-ts'] === 'unsupported') {
      at(where, `${key} is not supported by tiled-ts (${child.description}); remove it`);
    } else if (child['x-tiled-ts'] === 'ignored') {
      warn(where, String(child.description));
    } else {
      reportUnimplementedKeys(value, child, where, at, warn);
    }
  }
}

function objectAt(data: unknown, key: string): Record<string, unknown> | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const value = (data as Record<string, unknown>)[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function buildTrees(
  data: Record<string, unknown>,
  baseDir: string,
  at: (path: KeyPath, message: string) => void,
  describe: (path: KeyPath) => string,
): TreeMountConfig[] {
  const hasCatalog = data.catalog !== undefined && data.catalog !== null;
  const hasTrees = data.trees !== undefined && data.trees !== null;
  if (hasCatalog && hasTrees) {
    at(
      ['catalog'],
      "The configuration 'catalog' specifies a single catalog, whereas 'trees' can specify multiple catalogs. It is not allowed to use both 'catalog' and 'trees'.",
    );
    return [];
  }
  if (hasCatalog) {
    // Tiled's single-catalog section is shorthand for one catalog tree at the root.
    return typeof data.catalog === 'object' && !Array.isArray(data.catalog)
      ? [{ path: '/', tree: 'catalog', args: data.catalog as Record<string, unknown>, baseDir, fromCatalogSection: true }]
      : [];
  }
  if (!hasTrees) {
    at(['trees'], "required key is missing; the configuration must list the 'trees' to serve, or name one 'catalog'");
    return [];
  }
  if (!Array.isArray(data.trees)) return [];
  const trees: TreeMountConfig[] = [];
  const seen: { path: string; index: number }[] = [];
  data.trees.forEach((item: unknown, index: number) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return;
    const { tree, path, args } = item as Record<string, unknown>;
    if (typeof tree !== 'string' || typeof path !== 'string') return;
    const segments = path.split('/').filter((segment) => segment !== '');
    const normalised = '/' + segments.join('/');
    for (const other of seen) {
      const [shorter, longer] = other.path.length <= normalised.length ? [other.path, normalised] : [normalised, other.path];
      if (shorter === longer || shorter === '/' || longer.startsWith(shorter + '/')) {
        at(['trees', index, 'path'], `Tree paths cannot be subpaths of each other: '${other.path}' (${describe(['trees', other.index, 'path'])}) and '${normalised}'`);
      }
    }
    seen.push({ path: normalised, index });
    trees.push({ path: normalised, tree, args: (args as Record<string, unknown> | null | undefined) ?? null, baseDir });
  });
  return trees;
}

function buildAuthentication(
  data: Record<string, unknown>,
  baseDir: string,
  files: string[],
  env: NodeJS.ProcessEnv,
  at: (path: KeyPath, message: string) => void,
  problems: string[],
  warnings: string[],
): AuthenticationConfig {
  const section = objectAt(data, 'authentication') ?? {};
  const providers: ProviderConfig[] = [];
  const names = new Map<string, number>();
  const rawProviders = Array.isArray(section.providers) ? section.providers : [];
  rawProviders.forEach((item: unknown, index: number) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return;
    const { provider, authenticator, args } = item as Record<string, unknown>;
    if (typeof provider !== 'string' || typeof authenticator !== 'string') return;
    const keyPath = `authentication.providers[${index}]`;
    const earlier = names.get(provider);
    if (earlier !== undefined) {
      at(['authentication', 'providers', index, 'provider'], `provider name "${provider}" is already used by authentication.providers[${earlier}]; provider names must be unique`);
    } else {
      names.set(provider, index);
    }
    providers.push({
      provider,
      authenticator,
      args: (args !== null && typeof args === 'object' && !Array.isArray(args) ? args : {}) as Record<string, unknown>,
      keyPath,
      file: files.length === 1 ? files[0] : undefined,
      baseDir,
    });
  });

  const proxied = rawProviders.flatMap((item: unknown, index: number) =>
    PROXIED_AUTHENTICATOR_SPECS.has(String((item as Record<string, unknown> | null)?.authenticator)) ? [index] : [],
  );
  for (const problem of proxiedProviderProblems(proxied, rawProviders.length)) {
    at(['authentication', 'providers', problem.index, 'authenticator'], problem.message);
  }

  const admins: { provider: string; id: string }[] = [];
  const rawAdmins = Array.isArray(section.tiled_admins) ? section.tiled_admins : [];
  rawAdmins.forEach((item: unknown, index: number) => {
    if (item === null || typeof item !== 'object') return;
    const { provider, id } = item as Record<string, unknown>;
    if (typeof provider !== 'string' || typeof id !== 'string') return;
    if (!names.has(provider)) {
      const known = [...names.keys()];
      at(['authentication', 'tiled_admins', index, 'provider'], known.length
        ? `no provider named "${provider}"; expected one of: ${known.join(', ')}`
        : `no provider named "${provider}" (no providers are configured, so there are no admins to name)`);
    }
    admins.push({ provider, id });
  });

  const duration = (key: 'access_token_max_age' | 'refresh_token_max_age' | 'session_max_age', variable: string): number => {
    const value = section[key];
    if (value !== undefined && value !== null) {
      const seconds = parseDuration(value);
      if (seconds === undefined || seconds <= 0) {
        at(['authentication', key], `expected a positive number of seconds or a duration such as "15 minutes", "7 days", "PT15M" or "01:00:00", got ${describeValue(value, false)}`);
        return DEFAULT_AUTHENTICATION[key];
      }
      return seconds;
    }
    const fromEnv = env[variable];
    if (fromEnv !== undefined && fromEnv !== '') {
      const seconds = parseDuration(fromEnv);
      if (seconds === undefined || seconds <= 0) {
        problems.push(`environment variable ${variable}: expected a positive number of seconds or a duration such as "PT15M" or "01:00:00", got ${JSON.stringify(fromEnv)}`);
        return DEFAULT_AUTHENTICATION[key];
      }
      return seconds;
    }
    return DEFAULT_AUTHENTICATION[key];
  };

  let apiKeyMaxLifetime: number | null = null;
  if (section.api_key_max_lifetime !== undefined && section.api_key_max_lifetime !== null) {
    const seconds = parseDuration(section.api_key_max_lifetime);
    if (seconds === undefined || seconds <= 0) {
      at(['authentication', 'api_key_max_lifetime'], `expected a positive number of seconds, a duration such as "30 days", or null, got ${describeValue(section.api_key_max_lifetime, false)}`);
    } else {
      apiKeyMaxLifetime = seconds;
    }
  }

  let allowAnonymous = DEFAULT_AUTHENTICATION.allow_anonymous_access;
  if (typeof section.allow_anonymous_access === 'boolean') {
    allowAnonymous = section.allow_anonymous_access;
  } else if (env.TILED_ALLOW_ANONYMOUS_ACCESS !== undefined && env.TILED_ALLOW_ANONYMOUS_ACCESS !== '') {
    const parsed = parseBoolean(env.TILED_ALLOW_ANONYMOUS_ACCESS);
    if (parsed === undefined) {
      problems.push(`environment variable TILED_ALLOW_ANONYMOUS_ACCESS: expected true or false, got ${JSON.stringify(env.TILED_ALLOW_ANONYMOUS_ACCESS)}`);
    } else {
      allowAnonymous = parsed;
    }
  }

  const secretKeys = listFromEnv(section.secret_keys, 'TILED_SECRET_KEYS', env, problems, true);
  const singleUserKey =
    typeof section.single_user_api_key === 'string' ? section.single_user_api_key : env.TILED_SINGLE_USER_API_KEY;
  if (providers.length > 0 && typeof section.single_user_api_key === 'string') {
    warnings.push('authentication.single_user_api_key is ignored: providers are configured, so the server runs in multi-user mode');
  }

  return {
    providers,
    tiled_admins: admins,
    ...(secretKeys ? { secret_keys: secretKeys } : {}),
    allow_anonymous_access: allowAnonymous,
    ...(singleUserKey !== undefined ? { single_user_api_key: singleUserKey } : {}),
    access_token_max_age: duration('access_token_max_age', 'TILED_ACCESS_TOKEN_MAX_AGE'),
    refresh_token_max_age: duration('refresh_token_max_age', 'TILED_REFRESH_TOKEN_MAX_AGE'),
    session_max_age: duration('session_max_age', 'TILED_SESSION_MAX_AGE'),
    api_key_max_lifetime: apiKeyMaxLifetime,
    ...(typeof section.public_base_url === 'string' ? { public_base_url: section.public_base_url } : {}),
    pending_logins_per_address: positiveInteger(section.pending_logins_per_address) ?? DEFAULT_AUTHENTICATION.pending_logins_per_address,
    pending_logins_per_provider: positiveInteger(section.pending_logins_per_provider) ?? DEFAULT_AUTHENTICATION.pending_logins_per_provider,
  };
}

/** The schema has already reported anything else at its key path. */
function positiveInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : undefined;
}

function buildDatabase(data: Record<string, unknown>, env: NodeJS.ProcessEnv, problems: string[]): DatabaseConfig | undefined {
  const section = objectAt(data, 'database') ?? {};
  const fromConfig = typeof section.uri === 'string' ? section.uri : undefined;
  let uri = fromConfig;
  if (uri === undefined && env.TILED_DATABASE_URI) {
    uri = env.TILED_DATABASE_URI;
    if (!/^(sqlite|postgresql|postgres)(\+[a-z0-9]+)?:/.test(uri)) {
      problems.push(`environment variable TILED_DATABASE_URI: expected a database URL such as "sqlite:///path/to/auth.db" or "postgresql://user@host/db", got ${JSON.stringify(redactUrlPassword(uri))}`);
    }
  }
  if (uri === undefined) return undefined;
  return {
    uri,
    init_if_not_exists: section.init_if_not_exists === true,
    pool_size: typeof section.pool_size === 'number' ? section.pool_size : 5,
    pool_pre_ping: typeof section.pool_pre_ping === 'boolean' ? section.pool_pre_ping : true,
    max_overflow: typeof section.max_overflow === 'number' ? section.max_overflow : 10,
  };
}

/** A list from the config, else from a JSON-list environment variable (config wins, as in Tiled). */
function listFromEnv(
  fromConfig: unknown,
  variable: string,
  env: NodeJS.ProcessEnv,
  problems: string[],
  secret = false,
): string[] | undefined {
  if (Array.isArray(fromConfig)) return fromConfig.filter((item): item is string => typeof item === 'string');
  const raw = env[variable];
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string' && item !== '')) {
    const got = secret ? '(value not shown: it is a secret)' : `got ${JSON.stringify(raw)}`;
    problems.push(`environment variable ${variable}: expected a JSON list of strings such as '["one", "two"]', ${got}`);
    return undefined;
  }
  return parsed as string[];
}

function parseBoolean(text: string): boolean | undefined {
  const value = text.trim().toLowerCase();
  if (['1', 'true', 't', 'yes', 'y', 'on'].includes(value)) return true;
  if (['0', 'false', 'f', 'no', 'n', 'off'].includes(value)) return false;
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
