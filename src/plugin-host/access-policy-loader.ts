import { Logger } from '@nestjs/common';
import type { AccessControlConfig } from '../config/app-config';
import {
  AccessPolicy,
  AccessPolicyPlugin,
  PLUGIN_API_VERSION,
  SUPPORTED_PLUGIN_API_VERSIONS,
} from '../plugins-api';
import { importModule, parseSpecifier, pickExport, PluginLoadError, resolveModule, validateArgs } from './plugin-loader';

/** Built-in access policies by short name, and Tiled's spellings of them, so an unedited Tiled config loads. */
const BUILTIN_POLICIES: ReadonlyMap<string, () => AccessPolicyPlugin<never>> = new Map<string, () => AccessPolicyPlugin<never>>([
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ['allow-all', () => require('../access/allow-all-policy').allowAllPolicyPlugin],
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ['tag-based', () => require('../access/tag-based-policy').tagBasedPolicyPlugin],
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  ['external-pdp', () => require('../access/external-pdp-policy').externalPdpPolicyPlugin],
]);

const TILED_POLICY_ALIASES: ReadonlyMap<string, string> = new Map([
  ['tiled.access_control.access_policies:DummyAccessPolicy', 'allow-all'],
  ['tiled.access_control.access_policies:TagBasedAccessPolicy', 'tag-based'],
]);

export interface LoadedPolicy {
  policy: AccessPolicy;
  name: string;
}

/** Load `access_control.access_policy` like an authenticator: resolve, check the descriptor and API version, validate args, create. */
export async function loadAccessPolicy(config: AccessControlConfig, file?: string): Promise<LoadedPolicy> {
  const spec = config.access_policy;
  const where = `access_control.access_policy${file ? ` in ${file}` : ''}`;
  const fail = (what: string): PluginLoadError => new PluginLoadError(`Cannot load access policy "${spec}" (${where}): ${what}`);
  const builtin = TILED_POLICY_ALIASES.get(spec) ?? (BUILTIN_POLICIES.has(spec) ? spec : undefined);
  let exported: unknown;
  let source: string;
  if (builtin) {
    exported = BUILTIN_POLICIES.get(builtin)!();
    source = `built-in ${builtin}`;
  } else {
    const target = parseSpecifier(spec);
    const resolved = target.kind === 'builtin' ? null : resolveModule(target, config.baseDir);
    if (!resolved) {
      const python = /^[a-z_]\w*(\.[a-z_]\w*)+(:\w+)?$/i.test(spec);
      throw fail(
        python
          ? `"${spec}" looks like a Python class; tiled-ts has built-ins ${[...TILED_POLICY_ALIASES.keys(), ...BUILTIN_POLICIES.keys()].join(', ')} or loads a JavaScript module (./my-policy.js:MyPolicy)`
          : `nothing found at "${spec}" from ${config.baseDir}`,
      );
    }
    source = resolved;
    try {
      exported = pickExport(await importModule(resolved), target.exportName);
    } catch (error) {
      throw fail(`${resolved} threw while loading: ${messageOf(error)}`);
    }
  }
  const plugin = exported as Partial<AccessPolicyPlugin> | undefined;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.create !== 'function' || !plugin.meta || !plugin.argsSchema) {
    throw fail(`${source} does not export an access-policy plugin (meta, argsSchema, create), built with defineAccessPolicy()`);
  }
  if (!SUPPORTED_PLUGIN_API_VERSIONS.includes(plugin.meta.apiVersion)) {
    throw fail(`it was written for plugin API version ${plugin.meta.apiVersion}; this server implements ${PLUGIN_API_VERSION}`);
  }
  const argErrors = validateArgs(plugin.argsSchema, config.args, 'access_control.args');
  if (argErrors.length) throw fail(argErrors.join('; '));
  const logger = new Logger(`AccessPolicy:${plugin.meta.name}`);
  let policy: AccessPolicy;
  try {
    policy = await plugin.create(config.args as never, {
      baseDir: config.baseDir,
      fetch,
      logger: { debug: (m) => logger.debug(m), info: (m) => logger.log(m), warn: (m) => logger.warn(m), error: (m) => logger.error(m) },
    });
  } catch (error) {
    throw fail(`${plugin.meta.name} refused to start: ${messageOf(error)}`);
  }
  const missing = ['allowedScopes', 'filters', 'initNode'].filter((hook) => typeof (policy as unknown as Record<string, unknown>)?.[hook] !== 'function');
  if (missing.length) throw fail(`${plugin.meta.name} returned a policy without ${missing.join(', ')}()`);
  return { policy, name: `${plugin.meta.name}@${plugin.meta.version} (${source})` };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error);
}
