import { CanActivate, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { pyList, TiledHttpError } from '../common/errors/tiled-http.error';
import { rememberApiKeyCookie } from '../common/http/http-hooks';
import { apiBase } from '../common/http/wire';
import { AUTH_CONTEXT, AuthContext } from './auth-context';
import { AUTHENTICATED_ONLY, IS_PUBLIC, Scopes } from './auth.decorators';
import { CredentialsStrategy } from './credentials.strategy';
import { presentedApiKey } from './credentials';

/** What a route declares, read from its decorators once and then reused for every request. */
interface RouteRule {
  isPublic: boolean;
  required: readonly string[] | undefined;
  authenticatedOnly: boolean;
  /** Pre-built header value: `Bearer scope="…"` for the required scopes, or plain `Bearer`. */
  challenge: string;
}

/**
 * The global guard: deny by default. A route is reachable only if it is `@Public()`, `@Authenticated()`
 * or declares its `@Scopes(...)`; the caller must hold every listed scope.
 * Insufficient scope is 401, not 403: Tiled's client treats 401 as "log in again" (captured in 06-scoped-and-expired-keys.txt).
 *
 * It calls the passport strategy's `validate` directly rather than through `AuthGuard`: the strategy
 * is the same object either way, but passport's per-request middleware closures cost about a fifth of
 * the guard's time on the hot path (docs/benchmarks.md).
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly logger = new Logger('Auth');
  /**
   * Keyed by controller class, then handler: decorators cannot change after bootstrap. Both keys are
   * needed because one inherited handler can serve two controllers with different class-level scopes.
   */
  private readonly rules = new WeakMap<object, WeakMap<object, RouteRule>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly strategy: CredentialsStrategy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.ruleFor(context);
    if (rule.isPublic) return true;
    const { required, authenticatedOnly } = rule;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    if (!required && !authenticatedOnly) {
      this.logger.error(`Route ${request.method} ${request.routeOptions.url} declares no scopes; denying`);
      throw new TiledHttpError(403, 'This route declares no permissions and is closed');
    }

    const auth = await this.strategy.validate(request);
    (request as unknown as { user: AuthContext }).user = auth;
    (request as unknown as Record<symbol, AuthContext>)[AUTH_CONTEXT] = auth;
    (request as unknown as { tiledWho: string }).tiledWho = describeCaller(auth);

    let missing: string[] | undefined;
    if (required) {
      for (const scope of required) {
        if (!auth.scopes.has(scope)) (missing ??= []).push(scope);
      }
    }
    const unauthenticated = auth.via === 'anonymous' && auth.scopes.size === 0;
    if (unauthenticated && (missing !== undefined || authenticatedOnly)) {
      throw new TiledHttpError(401, 'Not authenticated', {
        'www-authenticate': rule.challenge,
        'x-tiled-root': apiBase(request),
      });
    }
    if (authenticatedOnly && auth.via === 'anonymous') {
      throw new TiledHttpError(401, 'Not authenticated', { 'www-authenticate': 'Bearer' });
    }
    const always = this.strategy.requiredScopes;
    if (required && always.some((scope) => !auth.scopes.has(scope))) {
      this.logger.warn(`Denied ${request.method} ${request.routeOptions.url} to ${describeCaller(auth)}: lacks the authenticator's scopes`);
      throw new TiledHttpError(
        401,
        `Authenticator has scopes that the request does not have. Authenticator has scopes ${pyList(always)}. Request had scopes ${pyList([...auth.scopes].filter((s) => s !== 'inherit'))}`,
        { 'www-authenticate': rule.challenge, 'x-tiled-root': apiBase(request) },
      );
    }
    if (missing !== undefined) {
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

  private ruleFor(context: ExecutionContext): RouteRule {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.rules.get(controller);
    if (!byHandler) {
      byHandler = new WeakMap();
      this.rules.set(controller, byHandler);
    }
    let rule = byHandler.get(handler);
    if (rule) return rule;
    const targets = [handler, controller];
    const required = this.reflector.getAllAndOverride(Scopes, targets);
    rule = {
      isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets) === true,
      required,
      authenticatedOnly: this.reflector.getAllAndOverride<boolean>(AUTHENTICATED_ONLY, targets) === true,
      challenge: required?.length ? `Bearer scope="${required.join(' ')}"` : 'Bearer',
    };
    byHandler.set(handler, rule);
    return rule;
  }
}

function describeCaller(auth: AuthContext): string {
  if (auth.principal) {
    const identity = auth.principal.identities[0];
    return identity ? `${identity.provider}:${identity.id}` : `service:${auth.principal.uuid}`;
  }
  return auth.via === 'single-user' ? 'singleuser' : 'anon';
}
