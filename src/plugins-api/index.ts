/**
 * The public authenticator plugin API of tiled-ts — the only module a plugin may import.
 *
 * A plugin module exports (default, or a named export referenced as `module:ExportName`) an
 * {@link AuthenticatorPlugin} descriptor. The host validates the provider's `args` against the
 * plugin's JSON Schema, then calls `create(args, context)` once at startup.
 *
 * Outcomes are kept apart: a returned `{ kind: 'authenticated' }` logs the user in, a returned
 * `{ kind: 'rejected' }` is "wrong credentials" (401), and **throwing means the plugin is broken**:
 * a {@link ProviderUnavailableError} (directory or identity provider down) is answered 503, any other
 * error 500 — never "wrong password". The host logs the message either way.
 *
 * @example
 * ```ts
 * import { definePlugin, PLUGIN_API_VERSION } from 'tiled-ts/plugins-api';
 * export default definePlugin({
 *   meta: { name: 'static-users', version: '1.0.0', apiVersion: PLUGIN_API_VERSION },
 *   argsSchema: { type: 'object', properties: { users: { type: 'object' } }, required: ['users'], additionalProperties: false },
 *   create: (args: { users: Record<string, string> }) => ({
 *     mode: 'internal',
 *     async authenticate({ username, password }) {
 *       return args.users[username] === password ? { kind: 'authenticated', identity: { id: username } } : { kind: 'rejected' };
 *     },
 *   }),
 * });
 * ```
 * @since 1
 */

/** The plugin API generation this host implements. A plugin declaring another one is refused at startup. */
export const PLUGIN_API_VERSION = 1;

/** Plugin API versions this host can load. @since 1 */
export const SUPPORTED_PLUGIN_API_VERSIONS: readonly number[] = [1];

/** A JSON Schema (draft 2020-12 / draft-07 subset understood by ajv) describing a plugin's `args`. @since 1 */
export type JsonSchema = Record<string, unknown>;

/** Who a login produced. `id` becomes the identity id under the provider's name. @since 1 */
export interface Identity {
  /** The user name or subject; non-empty. */
  id: string;
  /** Stored on the session and embedded in access tokens as the `state` claim. JSON-serialisable. */
  state?: Record<string, unknown>;
}

/** Credentials were accepted. @since 1 */
export interface Authenticated {
  kind: 'authenticated';
  identity: Identity;
}

/** Credentials were wrong (unknown user, bad password, denied at the provider). Never thrown. @since 1 */
export interface Rejected {
  kind: 'rejected';
  /** For the server log only; the client always sees a generic message. */
  reason?: string;
}

/** @since 1 */
export type AuthenticationOutcome = Authenticated | Rejected;

/** A logger scoped to the provider; lines are prefixed with the plugin and provider names. @since 1 */
export interface PluginLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What the host gives a plugin besides its own args: nothing else (no database, no global config). @since 1 */
export interface PluginContext {
  /** The provider name from the config (`providers[].provider`). */
  provider: string;
  logger: PluginLogger;
  /** The current time; tests may substitute it. */
  now(): Date;
  /** HTTP client for talking to identity providers (the global fetch unless the host substitutes one). */
  fetch: typeof fetch;
}

/** Username/password authenticators (Tiled's "internal" mode). @since 1 */
export interface InternalAuthenticator {
  mode: 'internal';
  /** Shown by clients after login; `{id}` is replaced by the identity id. */
  confirmationMessage?: string;
  authenticate(credentials: { username: string; password: string }): Promise<AuthenticationOutcome>;
}

/** What an external authenticator's `beginLogin` needs to redirect the user to the provider. @since 1 */
export interface BeginLoginInput {
  /** The exact redirect URI registered with the provider (the host's `/auth/provider/{p}/code`). */
  redirectUri: string;
  /** Opaque, unguessable; the host stores it and checks it on the callback. */
  state: string;
  /** PKCE S256 challenge made by the host; send it as `code_challenge` with method `S256`. */
  codeChallenge: string;
  /** OIDC nonce chosen by the host; verify it in the ID token in `completeLogin`. */
  nonce: string;
}

/** The callback's query as received by the host, plus what the host stored at `beginLogin`. @since 1 */
export interface CompleteLoginInput {
  query: Record<string, string>;
  redirectUri: string;
  codeVerifier: string;
  nonce: string;
}

/** Redirect-based authenticators (OAuth2 / OIDC; Tiled's "external" mode). The host owns state, PKCE and routes. @since 1 */
export interface ExternalAuthenticator {
  mode: 'external';
  confirmationMessage?: string;
  /** Where to send the browser after a successful login (tokens are appended by the host). */
  redirectOnSuccess?: string;
  redirectOnFailure?: string;
  /** The provider URL to redirect the user's browser to. */
  beginLogin(input: BeginLoginInput): Promise<{ authorizationUrl: string }>;
  /** Exchange the callback for an identity. Reject bad codes/tokens with `rejected`; throw if the provider is unreachable. */
  completeLogin(input: CompleteLoginInput): Promise<AuthenticationOutcome>;
  /**
   * Optional: clients log in at the identity provider itself and present its access tokens as Bearer
   * tokens (Tiled's `ProxiedOIDCAuthenticator`). The host then accepts such tokens, lists the provider's
   * endpoints in the about document, and allows no other provider beside this one.
   * @since 1 (optional member, added after the first release of API version 1)
   */
  proxied?: ProxiedTokens;
}

/** The verdict on a Bearer token issued by the identity provider. @since 1 */
export type AccessTokenOutcome =
  | {
      kind: 'authenticated';
      identity: Identity;
      /** The Tiled scopes this token grants; the request gets these and nothing more. */
      scopes: string[];
    }
  | {
      kind: 'rejected';
      /** `expired`: a genuine token past its `exp` (the client should refresh); `invalid`: anything else. */
      reason: 'expired' | 'invalid';
      /** For the server log only; never contains the token. */
      detail?: string;
    };

/** What an authenticator whose users present the identity provider's own tokens supplies. @since 1 */
export interface ProxiedTokens {
  /** The provider's device authorization endpoint (RFC 8628), where clients start a terminal login. */
  deviceAuthorizationEndpoint: string;
  /** The provider's token endpoint: clients poll and refresh there. */
  tokenEndpoint: string;
  /** The provider's logout endpoint, if it has one. */
  endSessionEndpoint?: string;
  /** The public client id clients use for the device flow. */
  deviceFlowClientId: string;
  /** Scopes clients should request besides `openid offline_access`. */
  extraScopes: string[];
  /** Tiled scopes every request must hold (Tiled's `authenticator.scopes`); empty: no such rule. */
  requiredScopes: string[];
  /** Verify a token issued by the provider. Throw (ProviderUnavailableError) only when the provider's keys cannot be fetched. */
  verifyAccessToken(token: string): Promise<AccessTokenOutcome>;
}

/** @since 1 */
export type Authenticator = InternalAuthenticator | ExternalAuthenticator;

/** What a plugin module exports. @since 1 */
export interface AuthenticatorPlugin<Args = Record<string, unknown>> {
  meta: {
    /** The plugin's name, for logs. */
    name: string;
    /** The plugin's own version, for logs. */
    version: string;
    /** The plugin API version it was written for ({@link PLUGIN_API_VERSION}). */
    apiVersion: number;
  };
  /** JSON Schema of `args`; the host validates before calling `create` and reports failures with the config key path. */
  argsSchema: JsonSchema;
  /** Build the authenticator. Throw (with a clear message) on unusable args; the host stops startup. */
  create(args: Args, context: PluginContext): Authenticator | Promise<Authenticator>;
}

/** Identity function that gives a plugin descriptor its type. @since 1 */
export function definePlugin<Args>(plugin: AuthenticatorPlugin<Args>): AuthenticatorPlugin<Args> {
  return plugin;
}

const PROVIDER_UNAVAILABLE: unique symbol = Symbol.for('tiled-ts.ProviderUnavailableError');

/**
 * Throw this when the service behind the plugin (a directory, an identity provider) cannot be reached or
 * answers nonsense: the host answers 503 "try again later" instead of 500.
 *
 * The host recognises it by a brand, not by class identity: a plugin installed in its own folder may load
 * another copy of tiled-ts, whose class is a different object. Test with {@link isProviderUnavailable}, not
 * `instanceof`. A plugin that cannot import this module (plain JavaScript with no dependency on tiled-ts)
 * may set the property `Symbol.for('tiled-ts.ProviderUnavailableError')` to `true` on any error instead.
 * @since 1
 */
export class ProviderUnavailableError extends Error {
  readonly [PROVIDER_UNAVAILABLE] = true;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProviderUnavailableError';
  }
}

/** True for a {@link ProviderUnavailableError} from any copy of tiled-ts, or an error carrying its brand. @since 1 */
export function isProviderUnavailable(error: unknown): error is ProviderUnavailableError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[PROVIDER_UNAVAILABLE] === true;
}

/** Convenience constructors for the two outcomes. @since 1 */
export const outcome = {
  authenticated(id: string, state?: Record<string, unknown>): Authenticated {
    return { kind: 'authenticated', identity: state ? { id, state } : { id } };
  },
  rejected(reason?: string): Rejected {
    return reason === undefined ? { kind: 'rejected' } : { kind: 'rejected', reason };
  },
};

export * from './access-policy';
