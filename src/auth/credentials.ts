import type { FastifyRequest } from 'fastify';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { API_KEY_COOKIE } from '../common/http/http-hooks';
import type { AuthContext } from './auth-context';

export type ApiKeySource = 'query' | 'header' | 'cookie';

export interface PresentedApiKey {
  key: string;
  source: ApiKeySource;
}

const MALFORMED_AUTHORIZATION =
  "Authorization header must include the authorization type followed by a space and then the secret, as in 'Bearer SECRET' or 'Apikey SECRET'. ";

/**
 * Tiled 0.2.16's order: `?api_key=`, then `Authorization: Apikey …`, then the cookie.
 * A Bearer header is not an API key; any other scheme is a 400.
 */
export function presentedApiKey(request: FastifyRequest): PresentedApiKey | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.api_key;
  if (typeof fromQuery === 'string' && fromQuery !== '') return { key: fromQuery, source: 'query' };
  const authorization = request.headers.authorization;
  if (authorization) {
    const space = authorization.indexOf(' ');
    const scheme = space > 0 ? authorization.slice(0, space).toLowerCase() : '';
    if (scheme === 'apikey') return { key: authorization.slice(space + 1).trim(), source: 'header' };
    if (scheme !== 'bearer') throw new TiledHttpError(400, MALFORMED_AUTHORIZATION);
  }
  const fromCookie = request.cookies?.[API_KEY_COOKIE];
  if (fromCookie) return { key: fromCookie, source: 'cookie' };
  return undefined;
}

export function presentedBearerToken(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (!authorization) return undefined;
  const space = authorization.indexOf(' ');
  if (space <= 0 || authorization.slice(0, space).toLowerCase() !== 'bearer') return undefined;
  return authorization.slice(space + 1).trim() || undefined;
}

/**
 * Turns a request's credentials into an AuthContext. One implementation per mode:
 * single-user (one key, no database) and multi-user (API keys and tokens backed by the database).
 * Invalid credentials throw a 401 TiledHttpError; no credentials yield the anonymous context.
 */
export interface CredentialResolver {
  resolve(request: FastifyRequest): Promise<AuthContext>;
  /**
   * Scopes every request to a scoped route must hold, whatever its credential (Tiled's rule for a
   * ProxiedOIDCAuthenticator with `scopes` or `scopes_map`); empty: no such rule.
   */
  readonly requiredScopes?: readonly string[];
}

export const CREDENTIAL_RESOLVER = Symbol('CredentialResolver');
