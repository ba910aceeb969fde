import { Logger } from '@nestjs/common';
import type { PluginLogger } from '../plugins-api';
import type { AppConfig } from '../config/app-config';
import { AuthenticatorRegistry } from './authenticator-registry';
import { proxiedProviderProblems } from './builtins';
import { loadAuthenticator, LoadedAuthenticator, PluginLoadError } from './plugin-loader';

/** Start every configured provider's authenticator, in order; the first failure stops startup. */
export async function loadProviders(config: AppConfig): Promise<AuthenticatorRegistry> {
  const loaded: LoadedAuthenticator[] = [];
  const seen = new Set<string>();
  for (const provider of config.authentication.providers) {
    if (seen.has(provider.provider)) {
      throw new PluginLoadError(`${provider.keyPath}.provider: provider names must be unique; "${provider.provider}" is used twice`);
    }
    seen.add(provider.provider);
    const entry = await loadAuthenticator(provider, {
      baseDir: provider.baseDir ?? config.configDir ?? process.cwd(),
      file: provider.file ?? config.source,
      logger: pluginLogger,
    });
    new Logger('Plugins').log(
      `Provider "${entry.provider}": ${entry.authenticator.mode} authenticator ${entry.plugin.name}@${entry.plugin.version} (${entry.source})`,
    );
    loaded.push(entry);
  }
  // The config loader already refused Tiled's spelling; this catches third-party plugins with the same capability.
  const proxied = loaded.flatMap((entry, index) => (entry.authenticator.mode === 'external' && entry.authenticator.proxied ? [index] : []));
  const [problem] = proxiedProviderProblems(proxied, loaded.length);
  if (problem) {
    const provider = config.authentication.providers[problem.index];
    throw new PluginLoadError(`${provider.keyPath}.authenticator${(provider.file ?? config.source) ? ` in ${provider.file ?? config.source}` : ''}: ${problem.message}`);
  }
  return new AuthenticatorRegistry(loaded);
}

function pluginLogger(provider: string, pluginName: string): PluginLogger {
  const logger = new Logger(`${pluginName}:${provider}`);
  return {
    debug: (m) => logger.debug(m),
    info: (m) => logger.log(m),
    warn: (m) => logger.warn(m),
    error: (m) => logger.error(m),
  };
}
