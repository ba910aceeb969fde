import { Logger } from '@nestjs/common';
import { AppConfig, isSingleUser } from '../config/app-config';
import { ConfigError, loadConfig } from '../config/config-loader';
import { resolveSingleUserKey, SingleUserKey, SingleUserKeyError } from '../auth/single-user-key';
import { resolveTrees } from '../catalog/tree/tree-loader';
import type { TreeNode } from '../catalog/tree/tree.types';
import { DatabaseUriError, parseDatabaseUri } from '../database/database-uri';
import type { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';
import type { AccessPolicy } from '../plugins-api';

/** What a valid configuration starts: everything `tiled serve` needs before it opens the database. */
export interface Deployment {
  /** Single-user mode only. */
  singleUserKey?: SingleUserKey;
  /** Multi-user mode only: every provider's authenticator, loaded and started with its checked args. */
  authenticators?: AuthenticatorRegistry;
  /** The trees of `trees[]`, loaded and mounted under one root. */
  catalogRoot: TreeNode;
  /** `access_control:`'s policy, loaded and started; the allow-all policy when there is none. */
  accessPolicy: AccessPolicy;
}

/**
 * Every check `tiled serve` makes of a configuration beyond its schema, without opening the database or
 * listening: the single-user key, each authenticator plugin (found, loaded, its args checked against its
 * schema, started), the database URI, and each tree module. `serve` (through createApp) and
 * `tiled admin check-config` both call this, so the two cannot disagree about a configuration.
 * Each failure is a ConfigError carrying the message `serve` prints.
 */
export async function validateDeployment(config: AppConfig, options: { apiKey?: string; catalogRoot?: TreeNode } = {}): Promise<Deployment> {
  if (isSingleUser(config)) {
    const singleUserKey = asConfigError(() => resolveSingleUserKey(options.apiKey, config.authentication.single_user_api_key));
    return { singleUserKey, catalogRoot: options.catalogRoot ?? (await resolveTrees(config)), accessPolicy: await loadPolicy(config) };
  }
  // Loaded only in multi-user mode: the plugin host is a noticeable part of a single-user cold start.
  const [{ loadProviders }, { PluginLoadError }] = await Promise.all([import('../plugin-host/load-providers'), import('../plugin-host/plugin-loader')]);
  let authenticators: AuthenticatorRegistry;
  try {
    authenticators = await loadProviders(config);
  } catch (error) {
    throw error instanceof PluginLoadError ? new ConfigError(error.message) : error;
  }
  if (config.database) asConfigError(() => parseDatabaseUri(config.database!.uri));
  return { authenticators, catalogRoot: options.catalogRoot ?? (await resolveTrees(config)), accessPolicy: await loadPolicy(config) };
}

async function loadPolicy(config: AppConfig): Promise<AccessPolicy> {
  if (!config.access_control) {
    const { AllowAllPolicy } = await import('../access/allow-all-policy');
    return new AllowAllPolicy();
  }
  const [{ loadAccessPolicy }, { PluginLoadError }] = await Promise.all([import('../plugin-host/access-policy-loader'), import('../plugin-host/plugin-loader')]);
  try {
    const loaded = await loadAccessPolicy(config.access_control, config.source);
    new Logger('AccessPolicy').log(`Access policy ${loaded.name}`);
    return loaded.policy;
  } catch (error) {
    throw error instanceof PluginLoadError ? new ConfigError(error.message) : error;
  }
}

/** What `tiled admin check-config` reports: the lines `serve` would refuse to start with, and the warnings it would print. */
export interface DeploymentCheck {
  errors: string[];
  warnings: string[];
}

/** `tiled admin check-config`: load the configuration and run {@link validateDeployment} on it, as `serve config` does. */
export async function checkDeployment(path: string, env: NodeJS.ProcessEnv = process.env): Promise<DeploymentCheck> {
  // Startup log lines ("Provider … loaded") are the server's, not this report's; plugin warnings still show.
  Logger.overrideLogger(['error', 'warn']);
  try {
    const config = await loadConfig(path, env);
    const { singleUserKey } = await validateDeployment(config);
    // The check opened any catalog database to validate it; nothing will serve it.
    await (await import('../catalog/writable/catalog-handle')).closeCatalogs();
    return { errors: [], warnings: [...(config.warnings ?? []), ...(singleUserKey?.warnings ?? [])] };
  } catch (error) {
    if (error instanceof ConfigError) return { errors: error.errors, warnings: [] };
    throw error;
  }
}

function asConfigError<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof SingleUserKeyError || error instanceof DatabaseUriError) throw new ConfigError(error.message);
    throw error;
  }
}
