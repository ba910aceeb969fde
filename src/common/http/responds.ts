import { HttpCode, Req, Res, SetMetadata } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Encoded, prepareEncoded } from './encoded';
import { JSON_TYPE, prepareDocument, toJson } from './wire';
import type { JsonSchema } from '../validation/openapi-schema';

/**
 * How a route's return value becomes its HTTP answer. Handlers return values; the one encoder
 * below (`encodeResult`) encodes them, so negotiation, ETags, gzip and exact content types live in one place.
 */
export type ResponseContract =
  /** Tiled's documents: JSON or msgpack by Accept, exact content types, optional ETag and Expires. */
  | { kind: 'document'; etag: boolean; expiresInMs?: number }
  /** JSON whatever the Accept header, as Tiled's token-issuing routes answer. */
  | { kind: 'json'; noStore: boolean }
  /** A body the handler encoded itself (`BodyResponse`): text, HTML, an asset, a redirect. */
  | { kind: 'body' };

export const RESPONSE_CONTRACT = 'tiled:response-contract';
/** The JSON Schema of a route's answer (`schema` of `@RespondsWithDocument`/`@RespondsWithJson`), read by the OpenAPI document. */
export const RESPONSE_SCHEMA = 'tiled:response-schema';
/** The media types besides JSON a `@RespondsWithBody()` route may answer with (`@ResponseSchema`), read by the OpenAPI document. */
export const RESPONSE_MEDIA_TYPES = 'tiled:response-media-types';

/** What a `@RespondsWithBody()` handler returns. */
export interface BodyResponse {
  body: Buffer | string;
  type: string;
  /** Defaults to 200. */
  status?: number;
  headers?: Readonly<Record<string, string>>;
  /** With an ETag the body goes through `prepareEncoded`: If-None-Match → 304, gzip when it pays off. */
  encoded?: Encoded;
}

/** A redirect without a body; `no-store` so a browser never replays a one-time login URL from cache. */
export function redirectTo(location: string, status: 302 | 307): BodyResponse {
  return { body: '', type: 'text/plain', status, headers: { location, 'cache-control': 'no-store' } };
}

/** An already-encoded body with its ETag (an asset, a catalog block): ETag/304 and gzip apply. */
export function encodedResponse(encoded: Encoded, headers?: Readonly<Record<string, string>>): BodyResponse {
  return { body: encoded.body, type: encoded.type, encoded, headers };
}

/**
 * The one encoder of return values, bound to a route by its `@RespondsWith…()` decorator.
 *
 * Not a Nest interceptor: with any interceptor on a route, Nest 12 watches every response for a client
 * disconnect through a chain of observables, which cost about 20 µs of CPU per request on /healthz and
 * the about document (docs/benchmarks.md). The decorator instead wraps the handler: it appends
 * `@Req()` and `@Res({ passthrough: true })` parameters the handler never sees, and encodes what the
 * handler returns; Nest then sends the bytes with the route's status.
 *
 * Nest sets the route's `@HttpCode` status when it sends, so an answer whose status differs from the
 * route's (a 304, a redirect, an error page) is handed back as a web `Response`, whose status Nest
 * keeps; headers already set on the reply stay.
 */
export function encodeResult(contract: ResponseContract, request: FastifyRequest, reply: FastifyReply, value: unknown): Buffer | Response | Promise<Buffer | Response> {
  if (contract.kind === 'body') return encodeBody(request, reply, value as BodyResponse);
  if (contract.kind === 'document') {
    const expires = contract.expiresInMs === undefined ? undefined : new Date(Date.now() + contract.expiresInMs);
    return prepareDocument(request, reply, value, { etag: contract.etag, expires }) ?? notModified();
  }
  if (contract.noStore) reply.header('cache-control', 'no-store');
  // A Buffer, not a string or object: Fastify would append "; charset=utf-8", which Tiled's client refuses.
  reply.header('content-type', JSON_TYPE);
  return Buffer.from(toJson(value));
}

function encodeBody(request: FastifyRequest, reply: FastifyReply, response: BodyResponse): Buffer | Response | Promise<Buffer | Response> {
  if (response.headers) for (const [name, header] of Object.entries(response.headers)) reply.header(name, header);
  const status = response.status ?? 200;
  const { encoded } = response;
  if (encoded) {
    return prepareEncoded(request, reply, encoded).then(
      (body) => {
        releaseWhenSent(reply, encoded, body);
        return body === null ? notModified() : withStatus(body, status);
      },
      (error: unknown) => {
        encoded.memory?.release();
        throw error;
      },
    );
  }
  const body = Buffer.isBuffer(response.body) ? response.body : Buffer.from(response.body);
  if (body.length) reply.header('content-type', response.type);
  return withStatus(body, status);
}

/**
 * This response's hold on the body's memory (Encoded.memory): let go once the bytes are written to the
 * socket ('finish' comes after the write that carries them completes), or now if it sends something else
 * (a 304, the gzipped copy). A client that disconnects first never finishes: the memory is then left to
 * the garbage collector, as it must be while the socket may still be reading it.
 */
function releaseWhenSent(reply: FastifyReply, encoded: Encoded, sent: Buffer | null): void {
  const { memory } = encoded;
  if (!memory) return;
  if (sent === encoded.body) reply.raw.once('finish', () => memory.release());
  else memory.release();
}

function withStatus(body: Buffer, status: number): Buffer | Response {
  if (status === 200) return body;
  return new Response(body.length ? new Uint8Array(body.buffer, body.byteOffset, body.length) : null, { status });
}

function notModified(): Response {
  return new Response(null, { status: 304 });
}

type Handler = (this: unknown, ...args: unknown[]) => unknown;

function respondsWith(contract: ResponseContract, schema?: JsonSchema): MethodDecorator {
  return (target, key, descriptor: PropertyDescriptor) => {
    const handler = descriptor.value as Handler;
    // The handler's own parameters come first; the request and reply go after them.
    const arity = (Reflect.getMetadata('design:paramtypes', target, key) as unknown[] | undefined)?.length ?? handler.length;
    Req()(target, key, arity);
    Res({ passthrough: true })(target, key, arity + 1);
    const encoding: Handler = function (...args) {
      const request = args[arity] as FastifyRequest;
      const reply = args[arity + 1] as FastifyReply;
      const result = handler.apply(this, args);
      return result instanceof Promise ? result.then((value) => encodeResult(contract, request, reply, value)) : encodeResult(contract, request, reply, result);
    };
    // Route, scope and OpenAPI metadata set by the decorators below this one live on the handler itself.
    for (const metadataKey of Reflect.getMetadataKeys(handler)) Reflect.defineMetadata(metadataKey, Reflect.getMetadata(metadataKey, handler), encoding);
    Object.defineProperty(encoding, 'name', { value: handler.name });
    descriptor.value = encoding;
    SetMetadata(RESPONSE_CONTRACT, contract)(target, key, descriptor);
    if (schema) SetMetadata(RESPONSE_SCHEMA, schema)(target, key, descriptor);
    HttpCode(200)(target, key, descriptor);
  };
}

/**
 * The handler returns a document; it leaves as JSON or msgpack (by Accept), with an ETag unless `etag: false`.
 * `schema` describes the document in the OpenAPI document (the handler's return type is erased at runtime).
 */
export function RespondsWithDocument(options: { etag?: boolean; expiresInMs?: number; schema?: JsonSchema } = {}): MethodDecorator {
  return respondsWith({ kind: 'document', etag: options.etag ?? true, expiresInMs: options.expiresInMs }, options.schema);
}

/** The handler returns a value sent as JSON whatever the Accept header (token routes, as Tiled 0.2.16). */
export function RespondsWithJson(options: { noStore?: boolean; schema?: JsonSchema } = {}): MethodDecorator {
  return respondsWith({ kind: 'json', noStore: options.noStore ?? false }, options.schema);
}

/**
 * The schema of a `@RespondsWithBody()` route's JSON answer, and the other media types it may answer with
 * (the catalog's negotiated data formats, a Zarr chunk), for the OpenAPI document.
 */
export function ResponseSchema(schema: JsonSchema, otherMediaTypes: readonly string[] = []): MethodDecorator {
  return (target, key, descriptor) => {
    SetMetadata(RESPONSE_SCHEMA, schema)(target, key, descriptor);
    if (otherMediaTypes.length) SetMetadata(RESPONSE_MEDIA_TYPES, otherMediaTypes)(target, key, descriptor);
  };
}

/** The handler returns a `BodyResponse` it encoded itself. */
export function RespondsWithBody(): MethodDecorator {
  return respondsWith({ kind: 'body' });
}
