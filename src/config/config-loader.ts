import { AppConfig, DEFAULT_AUTHENTICATION, DEFAULT_SERVER } from './app-config';

/** A configuration problem: the message names the file, the key path and what was expected. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The configuration `tiled serve demo` uses: the built-in demo tree at the root, single-user. */
export function demoConfig(): AppConfig {
  return {
    trees: [{ path: '/', tree: 'demo', baseDir: process.cwd() }],
    authentication: { ...DEFAULT_AUTHENTICATION },
    allow_origins: [],
    server: { ...DEFAULT_SERVER },
  };
}

/** Placeholder until the config issue lands: YAML loading, ${VAR} expansion, merging, schema validation. */
export async function loadConfig(path: string, _env: NodeJS.ProcessEnv = process.env): Promise<AppConfig> {
  throw new ConfigError(`${path}: loading YAML configuration is not available yet`);
}
