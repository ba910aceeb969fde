/**
 * The validated, frozen service configuration. Only the config loader builds it and only
 * `AppModule.forRoot` receives it; everything else gets the pieces it needs by injection (APP_CONFIG).
 * Key names follow Tiled's YAML spelling so a Tiled config file reads the same.
 */
export interface TreeMountConfig {
  /** URL sub-path, '/' for the root. */
  path: string;
  /** `demo`, or a module specifier `./file.js:exportName` / `package:exportName`. */
  tree: string;
  args?: Record<string, unknown> | null;
  /** Directory that relative specifiers resolve against (the config file's directory). */
  baseDir: string;
  /** Set when the tree comes from Tiled's `catalog:` section rather than from `trees:` (for messages). */
  fromCatalogSection?: boolean;
}

export interface ProviderConfig {
  provider: string;
  /** Built-in short name, Tiled alias, path or package specifier (resolved by the plugin host). */
  authenticator: string;
  args: Record<string, unknown>;
  /** Where this provider was declared, for error messages: `authentication.providers[0]`. */
  keyPath: string;
  /** The YAML file that declared it (for messages), when it came from one. */
  file?: string;
  /** Directory that relative authenticator specifiers resolve against (the config file's directory). */
  baseDir?: string;
}

export interface AuthenticationConfig {
  providers: ProviderConfig[];
  tiled_admins: { provider: string; id: string }[];
  /** First signs, all verify. Undefined: a random per-process key (with a warning). */
  secret_keys?: string[];
  allow_anonymous_access: boolean;
  single_user_api_key?: string;
  /** Lifetimes in seconds. */
  access_token_max_age: number;
  refresh_token_max_age: number;
  session_max_age: number;
  /** Server-wide cap on `expires_in` of new API keys, in seconds; null = unlimited (beyond Tiled). */
  api_key_max_lifetime: number | null;
  /** The server's public URL (external-login redirect URIs); unset: the address the socket is bound to. */
  public_base_url?: string;
  /** External logins started but not finished, at most this many per client address (IPv6: per /64). */
  pending_logins_per_address: number;
  /** …and at most this many per external provider, whatever the addresses. */
  pending_logins_per_provider: number;
}

export interface DatabaseConfig {
  uri: string;
  init_if_not_exists: boolean;
  pool_size: number;
  /** Test a pooled connection before handing it out (Tiled default true). */
  pool_pre_ping?: boolean;
  /** Connections allowed beyond pool_size (Tiled default 10). */
  max_overflow?: number;
}

export interface ServerConfig {
  host: string;
  port: number;
  /** Print one access-log line per request. */
  verbose: boolean;
  /** Begin access-log lines with the time (`--log-timestamps`). */
  logTimestamps?: boolean;
}

export interface MetricsConfig {
  /** Serve `GET /api/v1/metrics` and record request metrics (Tiled's default: on). */
  prometheus: boolean;
}

/** `access_control:` as Tiled spells it: a policy specifier and its args (docs/access-control.md). */
export interface AccessControlConfig {
  /** `tag-based`, `allow-all`, Tiled's `tiled.access_control.access_policies:…`, or `./module.js:Export`. */
  access_policy: string;
  args: Record<string, unknown>;
  /** Directory relative specifiers and files resolve against (the config file's directory). */
  baseDir: string;
}

export interface AppConfig {
  /** The file or directory the configuration came from, if any (for messages). */
  source?: string;
  /** Tiled's `expose_raw_assets`: false refuses the asset download routes. Absent: Tiled's default, true. */
  expose_raw_assets?: boolean;
  /** Largest body of a data write (PUT/PATCH of arrays and tables), in bytes; absent: the default. */
  write_body_limit?: number;
  trees: TreeMountConfig[];
  authentication: AuthenticationConfig;
  /** Absent: multi-user mode uses a transient in-memory SQLite database. */
  database?: DatabaseConfig;
  allow_origins: string[];
  server: ServerConfig;
  /** Absent: Tiled's default, metrics on. Read it through metricsEnabled(). */
  metrics?: MetricsConfig;
  /** Directory the configuration came from; relative specifiers resolve against it. */
  configDir?: string;
  /** Absent: every node grants every scope (Tiled's default, no policy). */
  access_control?: AccessControlConfig;
  /** Accepted-but-ignored Tiled keys and similar notes; `tiled serve` prints them as warnings at startup. */
  warnings?: readonly string[];
}

export const APP_CONFIG = Symbol('AppConfig');

export const DEFAULT_AUTHENTICATION: AuthenticationConfig = {
  providers: [],
  tiled_admins: [],
  allow_anonymous_access: false,
  access_token_max_age: 15 * 60,
  refresh_token_max_age: 7 * 24 * 3600,
  session_max_age: 365 * 24 * 3600,
  api_key_max_lifetime: null,
  pending_logins_per_address: 50,
  pending_logins_per_provider: 10000,
};

export const DEFAULT_SERVER: ServerConfig = { host: '127.0.0.1', port: 8000, verbose: false };

export function isSingleUser(config: AppConfig): boolean {
  return config.authentication.providers.length === 0;
}

export const DEFAULT_METRICS: MetricsConfig = { prometheus: true };

export function metricsEnabled(config: AppConfig): boolean {
  return (config.metrics ?? DEFAULT_METRICS).prometheus;
}
