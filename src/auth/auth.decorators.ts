import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Scope } from './scopes';
import { AUTH_CONTEXT, AuthContext } from './auth-context';

/** Every listed scope is required (all, not any). Read by the global authentication guard. */
export const Scopes = Reflector.createDecorator<Scope[]>();

export const IS_PUBLIC = 'tiled:isPublic';
/** Opt a route out of authentication entirely (health, about, login). Deny is the default. */
export const Public = (): MethodDecorator & ClassDecorator => applyDecorators(SetMetadata(IS_PUBLIC, true));

/**
 * Routes that need a credential but no particular scope (whoami, logout with a session).
 * Declared explicitly so the route table shows the choice was made on purpose.
 */
export const AUTHENTICATED_ONLY = 'tiled:authenticatedOnly';
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(AUTHENTICATED_ONLY, true));

/** The caller's AuthContext, as resolved by the guard. Handlers never read the raw request for it. */
export const CurrentAuth = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthContext => {
  const request = ctx.switchToHttp().getRequest();
  return request[AUTH_CONTEXT] as AuthContext;
});
