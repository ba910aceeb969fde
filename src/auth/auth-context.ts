import type { PrincipalRef } from '../principals/principal.dto';

export type { PrincipalRef };

export type CredentialKind = 'apikey' | 'access-token' | 'single-user' | 'anonymous';

/** Who is calling and what they may do; resolved once per request by the authentication guard. */
export interface AuthContext {
  /** null for anonymous callers and for the single-user key (Tiled has no principal there). */
  principal: PrincipalRef | null;
  scopes: ReadonlySet<string>;
  via: CredentialKind;
  /** SHA-256 of the presenting API key's raw bytes, when the caller used a multi-user API key. */
  apiKeyHash?: Buffer;
  /** The API key's first eight hex characters, when the caller used an API key. */
  apiKeyFirstEight?: string;
  /**
   * The caller presented an identity provider's own access token (ProxiedOIDCAuthenticator): `scopes` are what
   * that token grants, and an API key minted with it stays within them, as one minted with an API key does.
   */
  providerToken?: true;
  /** Session id (hex) carried by an access token, when the caller used one. */
  sessionId?: string;
  /** An API key's `access_tags` (Tiled's `authn_access_tags`); absent or null: not restricted by tags. */
  accessTags?: ReadonlySet<string> | null;
  /** The subtree an API key is bound to, as path segments; absent: the whole catalog. */
  keyPath?: readonly string[];
}

/** Where the guard leaves the AuthContext on the request object. */
export const AUTH_CONTEXT = Symbol('tiled.authContext');

export const ANONYMOUS_NO_SCOPES: AuthContext = Object.freeze({
  principal: null,
  scopes: new Set<string>(),
  via: 'anonymous',
}) as AuthContext;
