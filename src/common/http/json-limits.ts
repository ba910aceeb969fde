import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { TiledHttpError } from '../errors/tiled-http.error';

/*
 * Request bodies are bounded before any parsing work: by size per route (the socket is read no further
 * than the limit; a Content-Length above it is refused unread), and by nesting depth with one linear scan
 * before JSON.parse. docs/security.md lists the values.
 */

/** Login, refresh, revoke, API-key and principal bodies (all under /api/v1/auth/) are a few hundred bytes. */
export const AUTH_BODY_LIMIT = 16 * 1024;
/** Column and field lists POSTed to the table and container routes. */
export const DATA_BODY_LIMIT = 1024 * 1024;
/** Any other route that takes a body. */
export const DEFAULT_BODY_LIMIT = 64 * 1024;
/** Metadata documents created or replaced through POST/PUT/PATCH /metadata (Tiled sets no bound). */
export const METADATA_BODY_LIMIT = 1024 * 1024;
/** Default bound on array and table data written through PUT/PATCH (config `write_body_limit`). */
export const DEFAULT_WRITE_BODY_LIMIT = 256 * 1024 * 1024;
/** Raw data bodies: array bytes and Arrow IPC files, kept as Buffers for the write routes. */
export const DATA_BODY_TYPES = ['application/octet-stream', 'application/vnd.apache.arrow.file'] as const;
/** Deepest JSON nesting accepted in a request body (no Tiled request body goes beyond 3). */
export const MAX_JSON_DEPTH = 32;

const DATA_ROUTE = /^\/api\/v1\/(?:table|container|node)\//;
const WRITE_DATA_ROUTE = /^\/api\/v1\/(?:array|table|node)\//;
const METADATA_ROUTE = /^\/api\/v1\/metadata(?:\/|$)/;
const AUTH_ROUTE = /^\/api\/v1\/auth\//;

function writesData(url: string, method: string | readonly string[]): boolean {
  const methods = typeof method === 'string' ? [method] : method;
  return WRITE_DATA_ROUTE.test(url) && methods.some((m) => m === 'PUT' || m === 'PATCH');
}

/**
 * The body limit of a route, from its path pattern and method as Fastify registers them. This is the
 * limit of every parsed body (JSON, forms, text): the raw data of the write routes is read by its own
 * parser against `write_body_limit` (rawDataLimit), so a JSON body sent to a data route cannot make the
 * server parse hundreds of megabytes.
 */
export function bodyLimitFor(url: string, method: string | readonly string[] = 'GET'): number {
  if (writesData(url, method)) return DATA_BODY_LIMIT;
  if (METADATA_ROUTE.test(url)) return METADATA_BODY_LIMIT;
  if (DATA_ROUTE.test(url)) return DATA_BODY_LIMIT;
  if (AUTH_ROUTE.test(url)) return AUTH_BODY_LIMIT;
  return DEFAULT_BODY_LIMIT;
}

const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True if the JSON text nests deeper than `max`; brackets inside strings do not count. */
export function nestsDeeperThan(body: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) depth--;
  }
  return false;
}

/** What a client sees for a body over its route's limit (413), with the limit named. */
export function bodyTooLargeDetail(request: FastifyRequest): string {
  const limit = request.routeOptions?.bodyLimit;
  return limit ? `Request body is too large: this route accepts at most ${limit} bytes` : 'Request body is too large';
}

/** A refused body up to this size is read and discarded before the 413 goes out (see drainRefusedBody). */
export const REFUSED_BODY_DRAIN_LIMIT = 16 * 1024 * 1024;
const REFUSED_BODY_DRAIN_MS = 5000;

/**
 * Read and discard the rest of a body refused by its Content-Length. A server that answers while the
 * client is still sending and then closes the connection makes the client's next write fail (EPIPE)
 * before it ever reads the 413; reading the body first lets every ordinary client see the answer.
 * Bounded in bytes and time, so a huge or trickled body is not waited for: then the connection closes.
 */
export function drainRefusedBody(request: FastifyRequest): Promise<void> {
  const raw = request.raw;
  const declared = Number(raw.headers['content-length']);
  if (raw.complete || !Number.isFinite(declared) || declared > REFUSED_BODY_DRAIN_LIMIT) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      raw.off('end', finish).off('error', finish).off('close', finish);
      resolve();
    };
    const timer = setTimeout(finish, REFUSED_BODY_DRAIN_MS);
    raw.once('end', finish).once('error', finish).once('close', finish);
    raw.resume();
  });
}

type Done = (error: Error | null, body?: unknown) => void;

/** How many bytes of array data or Arrow file a request may send: the write limit on the data write routes, else the route's own limit. */
export function rawDataLimit(request: FastifyRequest, writeLimit: number): number {
  const url = request.routeOptions?.url ?? '';
  return writesData(url, request.method) ? writeLimit : (request.routeOptions?.bodyLimit ?? DEFAULT_BODY_LIMIT);
}

function tooLarge(limit: number): TiledHttpError {
  return new TiledHttpError(413, `Request body is too large: this route accepts at most ${limit} bytes`);
}

/**
 * Read a raw body whole, refusing it unread when its Content-Length is over `limit` and as soon as it grows
 * past it. With a Content-Length (what every client sends for array bytes), the body is copied once into
 * a buffer of that size as it arrives: no list of socket chunks kept alive until a final concatenation,
 * which for an 8 MB block meant twice the memory and a second 8 MB copy.
 */
function readRawBody(payload: NodeJS.ReadableStream, declared: number, limit: number, done: Done): void {
  if (declared > limit) {
    done(tooLarge(limit));
    return;
  }
  const sized = Number.isSafeInteger(declared) && declared >= 0;
  const whole = sized ? Buffer.allocUnsafe(declared) : undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (error: Error | null, body?: Buffer): void => {
    if (finished) return;
    finished = true;
    payload.removeListener('data', onData);
    done(error, body);
  };
  const onData = (chunk: Buffer): void => {
    if (received + chunk.length > limit) {
      finish(tooLarge(limit));
      return;
    }
    if (whole) {
      // Node's HTTP parser ends a body at its Content-Length, so this is only a guard.
      if (received + chunk.length > whole.length) {
        finish(new TiledHttpError(400, 'Request body is longer than its Content-Length'));
        return;
      }
      chunk.copy(whole, received);
    } else chunks.push(chunk);
    received += chunk.length;
  };
  payload.on('data', onData);
  payload.once('end', () => {
    if (!whole) finish(null, Buffer.concat(chunks, received));
    // Fewer bytes than declared end in 'aborted' before 'end'; this is only a guard.
    else finish(null, received === whole.length ? whole : whole.subarray(0, received));
  });
  payload.once('error', (error: Error) => finish(error));
}

/**
 * Every request body parser of the server, in one place: per-route body limits (an `onRoute` hook, so it
 * must be installed before Nest registers its routes: call this before `init()`/`listen()`), a JSON parser
 * that checks depth before parsing (Fastify's own parser does the parse itself: it refuses `__proto__` and
 * `constructor.prototype` keys), and the form parser the password grant and the device-code page need.
 * Besides Fastify's own `text/plain` parser and the raw data types of the write routes, any other content
 * type is refused with 415.
 */
export function installBodyLimits(app: NestFastifyApplication, options: { writeBodyLimit?: number } = {}): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', (route) => {
    route.bodyLimit ??= bodyLimitFor(route.url, route.method);
  });
  // Array bytes and Arrow files reach the write routes whole, as a Buffer, within the write limit.
  const writeLimit = options.writeBodyLimit ?? DEFAULT_WRITE_BODY_LIMIT;
  fastify.addContentTypeParser([...DATA_BODY_TYPES], (request: FastifyRequest, payload: NodeJS.ReadableStream, done: Done) =>
    readRawBody(payload, Number(request.headers['content-length']), rawDataLimit(request, writeLimit), done),
  );
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  // Registered through Nest, so Nest knows a JSON parser exists and does not add its own at init.
  app.useBodyParser('application/json', { bodyLimit: DEFAULT_BODY_LIMIT }, (request: FastifyRequest, body: Buffer | string, done: Done) => {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    if (nestsDeeperThan(bytes, MAX_JSON_DEPTH)) {
      done(new TiledHttpError(400, `Request body is nested too deeply: at most ${MAX_JSON_DEPTH} levels of JSON arrays and objects are accepted`));
      return;
    }
    parseJson(request, bytes.toString('utf8'), done);
  });
  // Nest's own form parser (null-prototype objects, `__proto__` refused), named here so that it is the
  // only one: without this line Nest adds it at init, with the 1 MiB data limit as its default.
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit: DEFAULT_BODY_LIMIT });
}
