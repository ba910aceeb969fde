import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, JWTPayload } from 'jose';
// The provider unreachable or answering nonsense: the host answers 503 for this type.
import { ProviderUnavailableError } from 'tiled-ts/plugins-api';

/** The fields of an OpenID discovery document this plugin uses. */
export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
}

export async function fetchDiscovery(fetchImpl: typeof fetch, wellKnownUri: string): Promise<Discovery> {
  let response: Response;
  try {
    response = await fetchImpl(wellKnownUri, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10000) });
  } catch (error) {
    throw new ProviderUnavailableError(`Cannot reach the OpenID discovery document ${wellKnownUri}: ${describe(error)}`);
  }
  if (!response.ok) throw new ProviderUnavailableError(`OpenID discovery document ${wellKnownUri} answered HTTP ${response.status}`);
  let document: unknown;
  try {
    document = await response.json();
  } catch {
    throw new ProviderUnavailableError(`OpenID discovery document ${wellKnownUri} is not JSON`);
  }
  const missing = ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'].filter(
    (key) => typeof (document as Record<string, unknown>)?.[key] !== 'string',
  );
  if (missing.length > 0) throw new ProviderUnavailableError(`OpenID discovery document ${wellKnownUri} lacks ${missing.join(', ')}`);
  return document as Discovery;
}

export type IdTokenCheck = { ok: true; claims: JWTPayload } | { ok: false; reason: string };

/** Verifies ID tokens against the provider's published keys (fetched by jose, cached, refetched on an unknown kid). */
export class IdTokenVerifier {
  private readonly keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(
    private readonly discovery: Discovery,
    private readonly audience: string,
  ) {
    this.keys = createRemoteJWKSet(new URL(discovery.jwks_uri), { timeoutDuration: 10000, cacheMaxAge: 3600_000 });
  }

  /**
   * A token that fails a check is a rejected login; a provider whose keys cannot be fetched is a broken
   * plugin, so that error is thrown, never reported as bad credentials.
   */
  async verify(idToken: string, expected: { nonce: string; accessToken: string; now: Date }): Promise<IdTokenCheck> {
    let claims: JWTPayload;
    let alg: string;
    try {
      const result = await jwtVerify(idToken, this.keys, {
        issuer: this.discovery.issuer,
        audience: this.audience,
        requiredClaims: ['sub', 'exp', 'iat'],
        currentDate: expected.now,
        clockTolerance: 30,
      });
      claims = result.payload;
      alg = result.protectedHeader.alg;
    } catch (error) {
      if (isTokenProblem(error)) return { ok: false, reason: `ID token rejected: ${describe(error)}` };
      throw new ProviderUnavailableError(`Cannot fetch the provider's signing keys (${this.discovery.jwks_uri}): ${describe(error)}`);
    }
    if (claims.nonce !== expected.nonce) return { ok: false, reason: 'ID token rejected: nonce does not match the login request' };
    if (typeof claims.at_hash === 'string' && claims.at_hash !== accessTokenHash(expected.accessToken, alg)) {
      return { ok: false, reason: 'ID token rejected: at_hash does not match the access token' };
    }
    return { ok: true, claims };
  }
}

/** A token that fails verification, as opposed to keys that could not be fetched. */
export function isTokenProblem(error: unknown): boolean {
  return (
    error instanceof joseErrors.JWTClaimValidationFailed ||
    error instanceof joseErrors.JWTExpired ||
    error instanceof joseErrors.JWSSignatureVerificationFailed ||
    error instanceof joseErrors.JWSInvalid ||
    error instanceof joseErrors.JWTInvalid ||
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys ||
    error instanceof joseErrors.JOSEAlgNotAllowed ||
    error instanceof joseErrors.JOSENotSupported
  );
}

/** OIDC Core §3.1.3.6: left half of the hash (matching the ID token's alg) of the access token, base64url. */
export function accessTokenHash(accessToken: string, alg: string): string {
  const bits = /(\d{3})$/.exec(alg)?.[1] ?? '256';
  const algorithm = bits === '384' ? 'sha384' : bits === '512' ? 'sha512' : 'sha256';
  const digest = createHash(algorithm).update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
