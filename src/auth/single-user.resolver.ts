import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { ANONYMOUS_NO_SCOPES, AuthContext } from './auth-context';
import { CredentialResolver, presentedApiKey } from './credentials';
import { PUBLIC_SCOPES, SINGLE_USER_SCOPES } from './scopes';

/** Single-user mode (no providers): one key, compared in constant time, grants SINGLE_USER_SCOPES. */
export class SingleUserCredentialResolver implements CredentialResolver {
  private readonly keyDigest: Buffer;
  private readonly keyHolder: AuthContext = Object.freeze({
    principal: null,
    scopes: new Set<string>(SINGLE_USER_SCOPES),
    via: 'single-user',
  }) as AuthContext;
  private readonly anonymous: AuthContext;

  constructor(apiKey: string, allowAnonymousAccess: boolean) {
    // Comparing fixed-length digests keeps the comparison constant-time whatever length is presented.
    this.keyDigest = digest(apiKey);
    this.anonymous = allowAnonymousAccess
      ? (Object.freeze({ principal: null, scopes: new Set<string>(PUBLIC_SCOPES), via: 'anonymous' }) as AuthContext)
      : ANONYMOUS_NO_SCOPES;
  }

  async resolve(request: FastifyRequest): Promise<AuthContext> {
    const presented = presentedApiKey(request);
    if (!presented) return this.anonymous;
    if (!timingSafeEqual(digest(presented.key), this.keyDigest)) throw new TiledHttpError(401, 'Invalid API key');
    return this.keyHolder;
  }
}

function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}
