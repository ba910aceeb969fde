import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Ajv, { ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import {
  Authenticator,
  AuthenticatorPlugin,
  PLUGIN_API_VERSION,
  PluginContext,
  PluginLogger,
  SUPPORTED_PLUGIN_API_VERSIONS,
} from '../plugins-api';
import type { ProviderConfig } from '../config/app-config';
import { BUILTIN_AUTHENTICATORS, TILED_AUTHENTICATOR_ALIASES } from './builtins';
import { dynamicImport } from '../common/esm';

/** A plugin could not be loaded or started; the message says what, where, who referenced it and how to fix it. */
export class PluginLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginLoadError';
  }
}

export interface LoadedAuthenticator {
  provider: string;
  authenticator: Authenticator;
  plugin: { name: string; version: string };
  /** Where it came from, for the startup log: `built-in dictionary`, a file path, or a package path. */
  source: string;
}

export interface LoadContext {
  /** Directory relative specifiers and packages resolve from: the config file's directory. */
  baseDir: string;
  /** The config file, for messages. */
  file?: string;
  logger: (provider: string, pluginName: string) => PluginLogger;
  fetch?: typeof fetch;
  now?: () => Date;
}

interface Target {
  kind: 'builtin' | 'path' | 'package';
  module: string;
  exportName?: string;
}

/** `dictionary`, `./x.js:Export`, `/abs/dir`, `@scope/pkg:Export`, `pkg` → what to load and which export. */
export function parseSpecifier(spec: string): Target {
  const aliased = Object.prototype.hasOwnProperty.call(TILED_AUTHENTICATOR_ALIASES, spec) ? TILED_AUTHENTICATOR_ALIASES[spec] : undefined;
  if (aliased) return { kind: 'builtin', ...aliased };
  if (/^[a-z][a-z0-9-]*$/.test(spec) && Object.prototype.hasOwnProperty.call(BUILTIN_AUTHENTICATORS, spec)) {
    return { kind: 'builtin', module: spec };
  }
  const colon = spec.lastIndexOf(':');
  const hasExport = colon > 0 && /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(spec.slice(colon + 1));
  const module = hasExport ? spec.slice(0, colon) : spec;
  const exportName = hasExport ? spec.slice(colon + 1) : undefined;
  const isPath = module.startsWith('./') || module.startsWith('../') || isAbsolute(module);
  return { kind: isPath ? 'path' : 'package', module, exportName };
}

/** Load, check, validate and start one provider's authenticator. Every failure is a PluginLoadError. */
export async function loadAuthenticator(provider: ProviderConfig, ctx: LoadContext): Promise<LoadedAuthenticator> {
  const spec = provider.authenticator;
  const where = `${provider.keyPath}.authenticator${ctx.file ? ` in ${ctx.file}` : ''}`;
  const fail = (what: string, fix: string): PluginLoadError =>
    new PluginLoadError(`Cannot load authenticator "${spec}" (${where}): ${what}. ${fix}`);

  const target = parseSpecifier(spec);
  let exported: unknown;
  let source: string;
  if (target.kind === 'builtin') {
    const load = BUILTIN_AUTHENTICATORS[target.module];
    if (!load) {
      throw fail(
        `the built-in "${target.module}" is not available in this build`,
        `Built-ins are: ${Object.keys(BUILTIN_AUTHENTICATORS).join(', ')}`,
      );
    }
    source = `built-in ${target.module}`;
    try {
      exported = load();
    } catch (error) {
      throw fail(`the built-in "${target.module}" failed to load: ${messageOf(error)}`, 'This is a bug; please report it');
    }
  } else {
    const resolved = resolveModule(target, ctx.baseDir);
    if (!resolved) {
      if (target.kind === 'path') {
        throw fail(
          `no file or folder at ${resolve(ctx.baseDir, target.module)} (paths resolve against the config file's directory, ${ctx.baseDir})`,
          'Check the path, or give an absolute one',
        );
      }
      if (/^[a-z_][\w]*(\.[a-z_]\w*)+$/i.test(target.module)) {
        throw fail(
          `"${target.module}" looks like a Python module; tiled-ts loads JavaScript authenticators`,
          'Use a built-in (dictionary, dummy), a path such as ./plugins/my-auth, or an npm package name',
        );
      }
      throw fail(
        `package "${target.module}" not found from ${ctx.baseDir}`,
        'Install it next to the config file (npm install in that directory) or use a path',
      );
    }
    source = resolved;
    try {
      exported = await importModule(resolved);
    } catch (error) {
      throw fail(`${resolved} was found but threw while loading: ${messageOf(error)}`, 'Fix the plugin or its dependencies');
    }
  }

  const plugin = pickExport(exported, target.exportName);
  if (!plugin) {
    throw fail(
      target.exportName
        ? `${source} has no export named "${target.exportName}"`
        : `${source} has no default export (and the module itself is not a plugin)`,
      'Name the export after a colon, e.g. ./my-auth.js:MyAuthenticator, or export the plugin as default',
    );
  }
  const problems = descriptorProblems(plugin);
  if (problems.length) {
    throw fail(`${source} is not an authenticator plugin: ${problems.join('; ')}`, 'Export an object built with definePlugin() from the tiled-ts plugin API');
  }
  const descriptor = plugin as AuthenticatorPlugin;
  if (!SUPPORTED_PLUGIN_API_VERSIONS.includes(descriptor.meta.apiVersion)) {
    throw fail(
      `plugin ${descriptor.meta.name}@${descriptor.meta.version} was written for plugin API version ${descriptor.meta.apiVersion}, but this server implements version ${PLUGIN_API_VERSION} (supports ${SUPPORTED_PLUGIN_API_VERSIONS.join(', ')})`,
      'Use a release of the plugin built for this plugin API version',
    );
  }

  const args = provider.args ?? {};
  const argErrors = validateArgs(descriptor.argsSchema, args, `${provider.keyPath}.args`);
  if (argErrors.length) {
    throw new PluginLoadError(
      `Invalid args for authenticator "${spec}" (provider "${provider.provider}"${ctx.file ? ` in ${ctx.file}` : ''}): ${argErrors.join('; ')}`,
    );
  }

  const context: PluginContext = {
    provider: provider.provider,
    logger: ctx.logger(provider.provider, descriptor.meta.name),
    now: ctx.now ?? (() => new Date()),
    fetch: ctx.fetch ?? fetch,
  };
  let authenticator: Authenticator;
  try {
    authenticator = await descriptor.create(args, context);
  } catch (error) {
    throw fail(`plugin ${descriptor.meta.name} refused to start: ${messageOf(error)}`, `Fix ${provider.keyPath}.args`);
  }
  const shapeProblem = authenticatorProblem(authenticator);
  if (shapeProblem) {
    throw fail(`plugin ${descriptor.meta.name} returned an unusable authenticator: ${shapeProblem}`, 'Fix the plugin');
  }
  return { provider: provider.provider, authenticator, plugin: { name: descriptor.meta.name, version: descriptor.meta.version }, source };
}

export function resolveModule(target: Target, baseDir: string): string | null {
  const request = target.kind === 'path' ? resolve(baseDir, target.module) : target.module;
  if (target.kind === 'path' && !existsSync(request)) return null;
  try {
    return require.resolve(request, { paths: [baseDir] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      // A package whose "exports" only has an "import" condition is resolvable for import() alone.
      return target.kind === 'package' ? resolveEsmOnlyPackage(target.module, baseDir) : null;
    }
    return null;
  }
}

function resolveEsmOnlyPackage(name: string, baseDir: string): string | null {
  try {
    const manifest = require.resolve(`${name}/package.json`, { paths: [baseDir] });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require(manifest) as { exports?: unknown; module?: string };
    const exportsField = pkg.exports as Record<string, unknown> | string | undefined;
    const entry =
      typeof exportsField === 'string'
        ? exportsField
        : (pickImportCondition(exportsField?.['.'] ?? exportsField) ?? pkg.module);
    return entry ? resolve(manifest, '..', entry) : null;
  } catch {
    return null;
  }
}

function pickImportCondition(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const conditions = value as Record<string, unknown>;
    return pickImportCondition(conditions.import ?? conditions.node ?? conditions.default);
  }
  return undefined;
}


export async function importModule(file: string): Promise<unknown> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return dynamicImport(pathToFileURL(file).href);
    throw error;
  }
}

export function pickExport(exported: unknown, name: string | undefined): unknown {
  if (!exported || (typeof exported !== 'object' && typeof exported !== 'function')) return undefined;
  const record = exported as Record<string, unknown>;
  if (name) {
    const walk = (root: unknown): unknown =>
      name.split('.').reduce<unknown>((value, part) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined), root);
    return walk(record) ?? walk(record.default);
  }
  if (record.default !== undefined) {
    const inner = record.default as Record<string, unknown> | undefined;
    // CommonJS compiled from TypeScript: module.exports.default.default under some interop paths.
    return inner && typeof inner === 'object' && 'default' in inner && !('meta' in inner) ? inner.default : inner;
  }
  return 'meta' in record ? record : undefined;
}

function descriptorProblems(value: unknown): string[] {
  if (!value || typeof value !== 'object') return ['the export is not an object'];
  const plugin = value as Record<string, unknown>;
  const problems: string[] = [];
  const meta = plugin.meta as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object') problems.push('missing "meta"');
  else {
    if (typeof meta.name !== 'string' || meta.name === '') problems.push('meta.name must be a non-empty string');
    if (typeof meta.version !== 'string') problems.push('meta.version must be a string');
    if (typeof meta.apiVersion !== 'number') problems.push('meta.apiVersion must be a number (the plugin API version)');
  }
  if (!plugin.argsSchema || typeof plugin.argsSchema !== 'object') problems.push('missing "argsSchema" (the JSON Schema of its args)');
  if (typeof plugin.create !== 'function') problems.push('missing method "create(args, context)"');
  return problems;
}

function authenticatorProblem(value: unknown): string | null {
  if (!value || typeof value !== 'object') return 'create() did not return an object';
  const auth = value as Record<string, unknown>;
  if (auth.mode === 'internal') return typeof auth.authenticate === 'function' ? null : 'an internal authenticator needs an authenticate() method';
  if (auth.mode === 'external') {
    const missing = ['beginLogin', 'completeLogin'].filter((m) => typeof auth[m] !== 'function');
    if (missing.length) return `an external authenticator needs ${missing.join(' and ')}()`;
    return auth.proxied === undefined ? null : proxiedProblem(auth.proxied);
  }
  return `mode must be "internal" or "external", not ${JSON.stringify(auth.mode)}`;
}

function proxiedProblem(value: unknown): string | null {
  if (!value || typeof value !== 'object') return '"proxied" must be an object';
  const proxied = value as Record<string, unknown>;
  const strings = ['deviceAuthorizationEndpoint', 'tokenEndpoint', 'deviceFlowClientId'].filter((k) => typeof proxied[k] !== 'string');
  if (strings.length) return `proxied.${strings.join(', proxied.')} must be strings`;
  const lists = ['extraScopes', 'requiredScopes'].filter((k) => !Array.isArray(proxied[k]));
  if (lists.length) return `proxied.${lists.join(', proxied.')} must be lists`;
  return typeof proxied.verifyAccessToken === 'function' ? null : 'proxied needs a verifyAccessToken() method';
}

export function validateArgs(schema: Record<string, unknown>, args: unknown, keyPath: string): string[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  let validate;
  try {
    validate = ajv.compile(schema);
  } catch (error) {
    return [`the plugin's own argsSchema is invalid: ${messageOf(error)}`];
  }
  if (validate(args)) return [];
  return (validate.errors ?? []).map((e) => describeAjvError(e, keyPath));
}

function describeAjvError(error: ErrorObject, keyPath: string): string {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('');
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return `${keyPath}${path}: unknown key "${String(params.additionalProperty)}"`;
  if (error.keyword === 'required') return `${keyPath}${path}: missing required key "${String(params.missingProperty)}"`;
  return `${keyPath}${path}: ${error.message ?? 'is invalid'}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}
