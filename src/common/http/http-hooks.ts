import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { redactUrl } from '../logging/redact';

export const CSRF_COOKIE = 'tiled_csrf';
export const API_KEY_COOKIE = 'tiled_api_key';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const COOKIE_ATTRIBUTES = 'HttpOnly; Path=/; SameSite=lax';

export interface HttpHookOptions {
  /** Print one access-log line per request to stderr (keys and secrets in URLs redacted). */
  accessLog: boolean;
  /** Begin each access-log line with its UTC time. */
  timestamps?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    tiledStart?: bigint;
  }
}

/**
 * Wire behaviour every Tiled response shares (13-csrf-cookies.txt): the double-submit CSRF cookie
 * and its check for cookie-authenticated writes, a request id, Server-Timing, and the access log.
 * Done as raw Fastify hooks because it must also cover 404s and other responses Nest never sees.
 */
export function installHttpHooks(fastify: FastifyInstance, options: HttpHookOptions): void {
  // Replaces the adapter's per-request randomBytes(8) with the same format drawn from the pool.
  fastify.setGenReqId(requestId);
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

  // Without the access log there is nothing to do after the response; no hook keeps the hot path shorter.
  if (options.accessLog) {
    fastify.addHook('onResponse', (request, reply, done) => {
      logAccess(options, request, reply.statusCode);
      done();
    });
  }
}

/**
 * Request ids and CSRF tokens come from pooled CSPRNG bytes: one `randomBytes` call per few kilobytes
 * instead of one per response, which was the largest single CPU cost of a small authenticated request
 * (docs/benchmarks.md). Each byte is handed out once and the pool is replaced when spent, so the values
 * are exactly as unpredictable; Node's own `randomUUID` caches entropy the same way.
 */
const POOL_BYTES = 8192;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function takeRandom(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (poolOffset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const value = pool.toString(encoding, poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return value;
}

/** A fresh 32-byte token for the `tiled_csrf` cookie. */
export function csrfToken(): string {
  return takeRandom(32, 'base64url');
}

/** A request id: 16 hex characters (8 random bytes), as the access log and `x-tiled-request-id` show it. */
export function requestId(): string {
  return takeRandom(8, 'hex');
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
    `${options.timestamps ? `${new Date().toISOString()} ` : ''}[${String(request.id)}] ${request.ip}:${request.socket.remotePort ?? '-'} (${who}) - "${request.method} ${redactUrl(request.url)} HTTP/${request.raw.httpVersion}" ${status}\n`,
  );
}
