import { createRemoteJWKSet, errors as joseErrors, jwtVerify, JWTPayload } from 'jose';
import { AccessTokenOutcome, ExternalAuthenticator, PluginContext, ProviderUnavailableError, ProxiedTokens } from 'tiled-ts/plugins-api';
import type { TiledProxiedOidcArgs } from './args';
import { createOAuth2Authenticator, OAuth2Settings } from './oauth2-authenticator';
import { describe, Discovery, fetchDiscovery, isTokenProblem } from './oidc';

/**
 * Longer Bearer values are refused before any parsing. Node already caps all headers together at 16 KiB;
 * this keeps the bound when the verifier is called from elsewhere. Entra and Keycloak tokens with many
 * roles stay well below it.
 */
export const MAX_ACCESS_TOKEN_CHARS = 12288;
/** A provider that rotates its keys publishes the new one before signing with it; 5 s bounds the refetches a flood of made-up kids causes. */
export const JWKS_REFETCH_COOLDOWN_MS = 5000;
/** An identity id longer than this is not a user name but an attack on the identities table. */
const MAX_IDENTITY_CHARS = 512;
/** Only signatures the published keys can make: HMAC and `none` would let a key-less forger in. */
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

interface ProxiedDiscovery extends Discovery {
  device_authorization_endpoint: string;
  end_session_endpoint?: string;
  id_token_signing_alg_values_supported?: unknown;
}

/**
 * Tiled's `ProxiedOIDCAuthenticator`: the OIDC authenticator (browser login through this server) plus
 * Bearer tokens that clients obtained from the identity provider directly (device flow, or a proxy such
 * as oauth2-proxy in front of the server), checked against the provider's published keys.
 *
 * The discovery document is read at startup, as Tiled does: the about document must name the provider's
 * device and token endpoints from its first answer.
 */
export async function createProxiedOidcAuthenticator(
  args: TiledProxiedOidcArgs,
  browserLogin: OAuth2Settings,
  context: PluginContext,
): Promise<ExternalAuthenticator> {
  const discovery = (await fetchDiscovery(context.fetch, args.well_known_uri)) as ProxiedDiscovery;
  if (typeof discovery.device_authorization_endpoint !== 'string') {
    throw new Error(
      `the OpenID discovery document ${args.well_known_uri} has no device_authorization_endpoint: enable the device authorization grant at the provider`,
    );
  }
  const scopesMap = args.scopes_map ?? {};
  const requiredScopes = [...new Set([...(args.scopes ?? []), ...Object.values(scopesMap).flat()])].sort();
  const verifier = new AccessTokenVerifier(discovery, args.audience, args.user_id_claim ?? 'sub', args.scopes_map ?? null, context);
  const proxied: ProxiedTokens = {
    deviceAuthorizationEndpoint: discovery.device_authorization_endpoint,
    tokenEndpoint: discovery.token_endpoint,
    endSessionEndpoint: typeof discovery.end_session_endpoint === 'string' ? discovery.end_session_endpoint : undefined,
    deviceFlowClientId: args.device_flow_client_id,
    // Tiled 0.2.16 offers none for this authenticator (only its Entra subclass has any).
    extraScopes: [],
    requiredScopes,
    verifyAccessToken: (token) => verifier.verify(token),
  };
  context.logger.info(`OpenID provider ${discovery.issuer} discovered; accepting its access tokens for audience "${args.audience}"`);
  // The browser login reads the same document: not fetched a second time.
  return { ...createOAuth2Authenticator({ ...browserLogin, discovery }, context), proxied };
}

class AccessTokenVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;
  private readonly algorithms: string[];

  constructor(
    private readonly discovery: ProxiedDiscovery,
    private readonly audience: string,
    private readonly userIdClaim: string,
    private readonly scopesMap: Record<string, string[]> | null,
    private readonly context: PluginContext,
  ) {
    // jose keeps the key set for an hour and refetches it for an unknown `kid`, at most every 5 s, so a
    // stream of tokens with made-up kids cannot turn into a stream of requests to the provider.
    this.keys = createRemoteJWKSet(new URL(discovery.jwks_uri), { timeoutDuration: 10000, cacheMaxAge: 3600_000, cooldownDuration: JWKS_REFETCH_COOLDOWN_MS });
    const advertised = Array.isArray(discovery.id_token_signing_alg_values_supported)
      ? discovery.id_token_signing_alg_values_supported.filter((alg): alg is string => ASYMMETRIC_ALGORITHMS.includes(alg as string))
      : [];
    this.algorithms = advertised.length > 0 ? advertised : ASYMMETRIC_ALGORITHMS;
  }

  async verify(token: string): Promise<AccessTokenOutcome> {
    if (token.length > MAX_ACCESS_TOKEN_CHARS) return { kind: 'rejected', reason: 'invalid', detail: 'token too long' };
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.keys, {
        issuer: this.discovery.issuer,
        audience: this.audience,
        algorithms: this.algorithms,
        requiredClaims: ['exp'],
        currentDate: this.context.now(),
        // Expiry is enforced to the second: the provider's clock is the one that issued the token.
        clockTolerance: 0,
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return { kind: 'rejected', reason: 'expired' };
      if (isTokenProblem(error)) return { kind: 'rejected', reason: 'invalid', detail: describe(error) };
      throw new ProviderUnavailableError(`Cannot fetch the provider's signing keys (${this.discovery.jwks_uri}): ${describe(error)}`);
    }
    const raw = claims[this.userIdClaim];
    const id = typeof raw === 'string' ? raw : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : '';
    if (id === '' || id.length > MAX_IDENTITY_CHARS) {
      return { kind: 'rejected', reason: 'invalid', detail: `the token has no usable "${this.userIdClaim}" claim` };
    }
    return { kind: 'authenticated', identity: { id }, scopes: this.scopesOf(claims) };
  }

  /**
   * With `scopes_map`, exactly the Tiled scopes the token's own scopes map to. Unlike Tiled, a token
   * without `scp` is granted nothing rather than every mapped scope: the provider vouching for the user
   * is not the provider granting them anything.
   */
  private scopesOf(claims: JWTPayload): string[] {
    const tokenScopes = scopeClaim(claims.scope) ?? scopeClaim(claims.scp) ?? [];
    if (!this.scopesMap) return tokenScopes;
    const granted = new Set<string>();
    for (const scope of scopeClaim(claims.scp) ?? tokenScopes) {
      const mapped = Object.prototype.hasOwnProperty.call(this.scopesMap, scope) ? this.scopesMap[scope] : undefined;
      if (mapped) for (const tiledScope of mapped) granted.add(tiledScope);
    }
    return [...granted];
  }
}

/** `scope` is a space-separated string (RFC 9068); `scp` is a list or a string (Entra, Okta). */
function scopeClaim(value: unknown): string[] | undefined {
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s !== '');
  return undefined;
}
