import { Inject, Injectable, Optional } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ANONYMOUS_NO_SCOPES, AuthContext } from '../auth/auth-context';
import { API_KEY_VERIFIER, ApiKeyVerifier, CredentialResolver, presentedApiKey, presentedBearerToken } from '../auth/credentials';
import { PUBLIC_SCOPES } from '../auth/scopes';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { apiBase } from '../common/http/wire';
import { normalizeUuid } from '../principals/principals.service';
import { TOKEN_SERVICE } from './sessions.service';
import { TokenService } from './token.service';
import { RevokedSessions } from './revoked-sessions';

/**
 * Multi-user credentials, in Tiled's order: an API key (query, header, cookie) wins, then a Bearer access
 * token, else anonymous. Access tokens are checked without touching the database (claims only, as Tiled),
 * except for sessions this process has revoked.
 */
@Injectable()
export class MultiUserCredentialResolver implements CredentialResolver {
  private readonly anonymous: AuthContext;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    private readonly revoked: RevokedSessions,
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
    if (claims.sid && this.revoked.has(claims.sid)) {
      throw new TiledHttpError(401, 'Session has been revoked. Please re-authenticate.', { 'www-authenticate': 'Bearer' });
    }
    const uuid = normalizeUuid(claims.sub);
    if (!uuid) throw new TiledHttpError(401, 'Could not validate credentials', { 'www-authenticate': 'Bearer' });
    return {
      principal: { uuid, type: claims.sub_typ, identities: claims.ids.map((i) => ({ id: i.id, provider: i.idp })) },
      scopes: new Set(claims.scp),
      via: 'access-token',
      sessionId: claims.sid,
    };
  }
}
