import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_CONTEXT, AuthContext, CredentialKind } from '../auth/auth-context';
import { presentedApiKey, presentedBearerToken } from '../auth/credentials';
import { AuthenticationMethod, AuthenticationOutcome, HttpMetrics } from './http-metrics';

/** The `endpoint` label of a request no route matched: one series for every unknown URL. */
export const UNMATCHED_ENDPOINT = 'unmatched';

const METHOD_OF: Record<CredentialKind, AuthenticationMethod> = {
  apikey: 'apikey',
  'access-token': 'token',
  'single-user': 'single-user',
  anonymous: 'anonymous',
};

/**
 * Records every response once it is sent. The endpoint label is the matched route pattern
 * (`/api/v1/metadata/*`), never the URL: node paths and `?api_key=` must not become label values.
 * Installed only when metrics are on: an onResponse hook costs every request a `finish` listener.
 */
export function installMetricsHook(fastify: FastifyInstance, metrics: HttpMetrics, singleUser: boolean): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const code = reply.statusCode;
    metrics.observeResponse(request.method, code, request.routeOptions.url ?? UNMATCHED_ENDPOINT, reply.elapsedTime / 1000, contentLength(reply));
    const authentication = authenticationOf(request, code, singleUser);
    if (authentication) metrics.countAuthentication(authentication.method, authentication.outcome);
    done();
  });
}

function contentLength(reply: FastifyReply): number {
  const header = reply.getHeader('content-length');
  const bytes = typeof header === 'number' ? header : Number(header);
  // A streamed body has no length; Tiled records 0 for it too.
  return Number.isFinite(bytes) ? bytes : 0;
}

/**
 * Read from what the authentication guard leaves on the request, so the guard itself stays as it is.
 * The guard stores the caller's context once the credentials are accepted; an anonymous caller without
 * scopes that got a 401 was refused for want of credentials. A credential the guard rejected leaves no
 * context and a 401: which kind it was is read from the request, only on that path. So a 401 from a
 * public route that carries a credential anyway (a wrong password sent along with a key cookie) counts as
 * a rejected credential too; rare, and cheaper than knowing here which routes are public.
 * Requests that present nothing to a public route are not authentications and are not counted.
 */
function authenticationOf(
  request: FastifyRequest,
  code: number,
  singleUser: boolean,
): { method: AuthenticationMethod; outcome: AuthenticationOutcome } | undefined {
  const auth = (request as unknown as Record<symbol, AuthContext | undefined>)[AUTH_CONTEXT];
  if (auth) {
    const refused = auth.via === 'anonymous' && auth.scopes.size === 0 && code === 401;
    return { method: METHOD_OF[auth.via], outcome: refused ? 'rejected' : 'accepted' };
  }
  if (code !== 401) return undefined;
  const method = presentedMethod(request, singleUser);
  return method ? { method, outcome: 'rejected' } : undefined;
}

function presentedMethod(request: FastifyRequest, singleUser: boolean): AuthenticationMethod | undefined {
  try {
    if (presentedApiKey(request)) return singleUser ? 'single-user' : 'apikey';
  } catch {
    // A malformed Authorization header is no credential of any kind.
    return undefined;
  }
  return !singleUser && presentedBearerToken(request) ? 'token' : undefined;
}
