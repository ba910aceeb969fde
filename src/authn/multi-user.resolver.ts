import { Inject, Injectable, Optional } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ANONYMOUS_NO_SCOPES, AuthContext } from '../auth/auth-context';
import { CredentialResolver, presentedApiKey, presentedBearerToken } from '../auth/credentials';
import { API_KEY_VERIFIER, ApiKeyVerifier } from '../apikeys/api-key-verifier.interface';
import { PUBLIC_SCOPES } from '../auth/scopes';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { apiBase } from '../common/http/wire';
import { TOKEN_SERVICE } from './sessions.service';
import { SessionAccessService } from './session-access';
import { TokenService } from './token.service';

/**
 * Multi-user credentials, in Tiled's order: an API key (query, header, cookie) wins, then a Bearer access
 * token, else anonymous. Unlike Tiled, an access token's `scp` claim is not trusted: its scopes are the principal's
 * current role scopes, and a revoked session's tokens stop at once (both through SessionAccessService's cache).
 */
@Injectable()
export class MultiUserCredentialResolver implements CredentialResolver {
  private readonly anonymous: AuthContext;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    private readonly sessions: SessionAccessService,
    @Optional() @Inject(API_KEY_VERIFIER) private readonly apiKeys: ApiKeyVerifier | null,
  ) {
    this.anonymous = config.authentication.allow_anonymous_access
      ? (Object.freeze({ principal: null, scopes: new Set<string>(PUBLIC_SCOPES), via: 'anonymous' }) as AuthContext)
      : ANONYMOUS_NO_SCOPES;
  }

  async resolve(request: FastifyRequest): Promise<AuthContext> {
    const key = presentedApiKey(request);
    if (key) {
      const context = this.apiKeys ? await this.apiKeys.verify(key.key) : null;
      if (!context) {
        throw new TiledHttpError(401, 'Invalid API key', { 'www-authenticate': 'Bearer', 'x-tiled-root': apiBase(request) });
      }
      return context;
    }
    const bearer = presentedBearerToken(request);
    if (!bearer) return this.anonymous;
    const verified = await this.tokens.verifyAccess(bearer);
    if (!verified.ok) {
      if (verified.reason === 'expired') {
        throw new TiledHttpError(401, 'Access token has expired. Refresh token.', {
          'www-authenticate': 'Bearer',
          'x-tiled-root': apiBase(request),
        });
      }
      throw new TiledHttpError(401, 'Could not validate credentials', { 'www-authenticate': 'Bearer' });
    }
    const claims = verified.claims;
    const access = typeof claims.sid === 'string' ? await this.sessions.check(claims.sid, claims.sub) : null;
    if (access?.ok) return access.context;
    if (access?.reason === 'revoked') {
      throw new TiledHttpError(401, 'Session has been revoked. Please re-authenticate.', { 'www-authenticate': 'Bearer' });
    }
    throw new TiledHttpError(401, 'Could not validate credentials', { 'www-authenticate': 'Bearer' });
  }
}
