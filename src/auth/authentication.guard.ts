import { ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { pyList, TiledHttpError } from '../common/errors/tiled-http.error';
import { rememberApiKeyCookie } from '../common/http/http-hooks';
import { apiBase } from '../common/http/wire';
import { AUTH_CONTEXT, AuthContext } from './auth-context';
import { AUTHENTICATED_ONLY, IS_PUBLIC, Scopes } from './auth.decorators';
import { CREDENTIALS_STRATEGY } from './credentials.strategy';
import { presentedApiKey } from './credentials';

/**
 * The global guard: deny by default. A route is reachable only if it is `@Public()`, `@Authenticated()`
 * or declares its `@Scopes(...)`; the caller must hold every listed scope.
 * Insufficient scope is 401, not 403: Tiled's client treats 401 as "log in again" (spec auth.md §6.3).
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard(CREDENTIALS_STRATEGY) {
  private readonly logger = new Logger('Auth');

  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const required = this.reflector.getAllAndOverride(Scopes, targets);
    const authenticatedOnly = this.reflector.getAllAndOverride<boolean>(AUTHENTICATED_ONLY, targets);
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (!required && !authenticatedOnly) {
      this.logger.error(`Route ${request.method} ${request.routeOptions.url} declares no scopes; denying`);
      throw new TiledHttpError(403, 'This route declares no permissions and is closed');
    }

    await super.canActivate(context);
    const auth = (request as unknown as { user: AuthContext }).user;
    (request as unknown as Record<symbol, AuthContext>)[AUTH_CONTEXT] = auth;
    (request as unknown as { tiledWho: string }).tiledWho = describeCaller(auth);

    const missing = (required ?? []).filter((scope) => !auth.scopes.has(scope));
    const unauthenticated = auth.via === 'anonymous' && auth.scopes.size === 0;
    if (unauthenticated && (missing.length > 0 || authenticatedOnly)) {
      throw new TiledHttpError(401, 'Not authenticated', {
        'www-authenticate': required?.length ? `Bearer scope="${required.join(' ')}"` : 'Bearer',
        'x-tiled-root': apiBase(request),
      });
    }
    if (authenticatedOnly && auth.via === 'anonymous') {
      throw new TiledHttpError(401, 'Not authenticated', { 'www-authenticate': 'Bearer' });
    }
    if (missing.length > 0) {
      this.logger.warn(`Denied ${request.method} ${request.routeOptions.url} to ${describeCaller(auth)}: lacks ${missing.join(' ')}`);
      throw new TiledHttpError(
        401,
        `Not enough permissions. Requires scopes ${pyList(required ?? [])}. Request had scopes ${pyList([...auth.scopes].filter((s) => s !== 'inherit'))}`,
        { 'www-authenticate': `Bearer scope="${(required ?? []).join(' ')}"`, 'x-tiled-root': apiBase(request) },
      );
    }
    if (auth.via === 'apikey' || auth.via === 'single-user') {
      const presented = presentedApiKey(request);
      if (presented?.source === 'query') rememberApiKeyCookie(request, reply, presented.key);
    }
    return true;
  }

  override handleRequest<TUser>(error: unknown, user: TUser): TUser {
    if (error) throw error;
    return user;
  }
}

function describeCaller(auth: AuthContext): string {
  if (auth.principal) {
    const identity = auth.principal.identities[0];
    return identity ? `${identity.provider}:${identity.id}` : `service:${auth.principal.uuid}`;
  }
  return auth.via === 'single-user' ? 'singleuser' : 'anon';
}
