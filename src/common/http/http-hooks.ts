import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiBase } from './wire';
import { redactUrl } from '../errors/tiled-exception.filter';

export const CSRF_COOKIE = 'tiled_csrf';
export const API_KEY_COOKIE = 'tiled_api_key';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const COOKIE_ATTRIBUTES = 'HttpOnly; Path=/; SameSite=lax';

export interface HttpHookOptions {
  /** Print one access-log line per request to stderr (keys and secrets in URLs redacted). */
  accessLog: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    tiledStart?: bigint;
  }
}

/**
 * Wire behaviour every Tiled response shares (spec auth.md §3.4, §6.5): the double-submit CSRF cookie
 * and its check for cookie-authenticated writes, a request id, Server-Timing, and the access log.
 * Done as raw Fastify hooks because it must also cover 404s and other responses Nest never sees.
 */
export function installHttpHooks(fastify: FastifyInstance, options: HttpHookOptions): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    request.tiledStart = process.hrtime.bigint();
    reply.header('x-tiled-request-id', String(request.id));
    const failure = csrfFailure(request);
    if (failure) {
      // Tiled answers CSRF failures as bare text with no Content-Type and no fresh cookie.
      reply.code(403).removeHeader('content-type');
      reply.raw.writeHead(403, { 'content-length': Buffer.byteLength(failure), 'x-tiled-request-id': String(request.id) });
      reply.raw.end(failure);
      reply.hijack();
      logAccess(options, request, 403);
      return;
    }
    done();
  });

  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (!request.cookies?.[CSRF_COOKIE]) {
      appendSetCookie(reply, `${CSRF_COOKIE}=${csrfToken()}; ${COOKIE_ATTRIBUTES}`);
    }
    const elapsed = Number(process.hrtime.bigint() - (request.tiledStart ?? process.hrtime.bigint())) / 1e6;
    reply.header('server-timing', `app;dur=${elapsed.toFixed(1)}`);
    done(null, payload);
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    logAccess(options, request, reply.statusCode);
    done();
  });
}

const CSRF_TOKEN_BYTES = 32;
const TOKENS_PER_REFILL = 128;
let tokenPool = Buffer.alloc(0);
let tokenOffset = 0;

/**
 * A fresh 32-byte CSPRNG token. Every response to a cookie-less client carries one, and a
 * `randomBytes` call per response was the largest single cost of a small authenticated request;
 * drawing from a pooled buffer (each byte used once, the pool replaced when spent) keeps the same
 * unpredictability at a fraction of the cost, as Node's own `randomUUID` cache does.
 */
export function csrfToken(): string {
  if (tokenOffset + CSRF_TOKEN_BYTES > tokenPool.length) {
    tokenPool = randomBytes(CSRF_TOKEN_BYTES * TOKENS_PER_REFILL);
    tokenOffset = 0;
  }
  const token = tokenPool.toString('base64url', tokenOffset, tokenOffset + CSRF_TOKEN_BYTES);
  tokenOffset += CSRF_TOKEN_BYTES;
  return token;
}

/** Remember an API key given in `?api_key=` as a cookie, so a browser keeps working after the first link. */
export function rememberApiKeyCookie(request: FastifyRequest, reply: FastifyReply, key: string): void {
  if (request.cookies?.[API_KEY_COOKIE] === key) return;
  appendSetCookie(reply, `${API_KEY_COOKIE}=${key}; ${COOKIE_ATTRIBUTES}`);
}

/** Fastify appends repeated set-cookie headers rather than replacing them. */
export function appendSetCookie(reply: FastifyReply, cookie: string): void {
  reply.header('set-cookie', cookie);
}

export function setXTiledRoot(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-tiled-root', apiBase(request));
}

function csrfFailure(request: FastifyRequest): string | undefined {
  if (SAFE_METHODS.has(request.method)) return undefined;
  const cookies = request.cookies ?? {};
  // Only cookie-authenticated requests can be forged cross-site; header and bearer credentials cannot.
  if (!cookies[API_KEY_COOKIE]) return undefined;
  const expected = cookies[CSRF_COOKIE];
  if (!expected) return 'Expected tiled_csrf_token cookie';
  const query = request.query as Record<string, unknown> | undefined;
  const given = headerValue(request.headers['x-csrf']) ?? (typeof query?.csrf === 'string' ? query.csrf : undefined);
  if (!given) return 'Expected csrf query parameter or x-csrf header';
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'Double-submit CSRF tokens do not match';
  return undefined;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function logAccess(options: HttpHookOptions, request: FastifyRequest, status: number): void {
  if (!options.accessLog) return;
  const who = (request as unknown as { tiledWho?: string }).tiledWho ?? 'anon';
  process.stderr.write(
    `[${String(request.id)}] ${request.ip}:${request.socket.remotePort ?? '-'} (${who}) - "${request.method} ${redactUrl(request.url)} HTTP/${request.raw.httpVersion}" ${status}\n`,
  );
}
