import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
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
import { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';
import { pluginFailureStatus } from '../plugin-host/plugin-failure';
import type { ProxiedTokens } from '../plugins-api';
import { PrincipalsService } from '../principals/principals.service';

/**
 * Multi-user credentials, in Tiled's order: an API key (query, header, cookie) wins, then a Bearer access
 * token, else anonymous. Unlike Tiled, an access token's `scp` claim is not trusted: its scopes are the principal's
 * current role scopes, and a revoked session's tokens stop at once (both through SessionAccessService's cache).
 */
@Injectable()
export class MultiUserCredentialResolver implements CredentialResolver {
  private readonly anonymous: AuthContext;
  private readonly logger = new Logger('Auth');
  /** The one provider whose own access tokens are accepted (Tiled's ProxiedOIDCAuthenticator), if configured. */
  private readonly proxied: { provider: string; tokens: ProxiedTokens } | undefined;
  readonly requiredScopes: readonly string[];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    private readonly sessions: SessionAccessService,
    @Optional() @Inject(API_KEY_VERIFIER) private readonly apiKeys: ApiKeyVerifier | null,
    registry: AuthenticatorRegistry,
    private readonly principals: PrincipalsService,
  ) {
    this.anonymous = config.authentication.allow_anonymous_access
      ? (Object.freeze({ principal: null, scopes: new Set<string>(PUBLIC_SCOPES), via: 'anonymous' }) as AuthContext)
      : ANONYMOUS_NO_SCOPES;
    const entry = registry.all().find(({ authenticator }) => authenticator.mode === 'external' && authenticator.proxied);
    if (entry?.authenticator.mode === 'external' && entry.authenticator.proxied) this.proxied = { provider: entry.provider, tokens: entry.authenticator.proxied };
    this.requiredScopes = Object.freeze([...(this.proxied?.tokens.requiredScopes ?? [])]);
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
      // As Tiled: our own keys first; a token none of them signed may be the identity provider's.
      if (verified.reason === 'invalid' && this.proxied) return this.resolveProviderToken(request, bearer, this.proxied);
      if (verified.reason === 'expired') throw expiredToken(request);
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

  /**
   * An access token issued by the identity provider: the principal is found (or created, role `user`) by the
   * identity, as on a login through that provider; the scopes are what the token grants, nothing more.
   */
  private async resolveProviderToken(request: FastifyRequest, token: string, proxied: { provider: string; tokens: ProxiedTokens }): Promise<AuthContext> {
    let outcome;
    try {
      outcome = await proxied.tokens.verifyAccessToken(token);
    } catch (error) {
      const status = pluginFailureStatus(error);
      this.logger.error(`Authenticator for provider "${proxied.provider}" could not check an access token: ${error instanceof Error ? error.message : String(error)}`);
      throw new TiledHttpError(
        status,
        status === 503
          ? `Authentication provider "${proxied.provider}" is unavailable. Try again later or ask the administrator to check the server log.`
          : `Authentication provider "${proxied.provider}" failed. Ask the administrator to check the server log.`,
      );
    }
    if (outcome.kind !== 'authenticated') {
      if (outcome.reason === 'expired') throw expiredToken(request);
      this.logger.warn(`Refused an access token for provider "${proxied.provider}"${outcome.detail ? `: ${outcome.detail}` : ''}`);
      throw new TiledHttpError(401, 'Could not validate credentials', { 'www-authenticate': 'Bearer' });
    }
    const principal = await this.principals.getOrCreateUser(proxied.provider, outcome.identity.id);
    const ref = await this.principals.refOf(principal.id);
    if (!ref) throw new TiledHttpError(401, 'Could not validate credentials', { 'www-authenticate': 'Bearer' });
    return Object.freeze({ principal: Object.freeze(ref), scopes: new Set(outcome.scopes), via: 'access-token', providerToken: true }) as AuthContext;
  }
}

function expiredToken(request: FastifyRequest): TiledHttpError {
  return new TiledHttpError(401, 'Access token has expired. Refresh token.', { 'www-authenticate': 'Bearer', 'x-tiled-root': apiBase(request) });
}
