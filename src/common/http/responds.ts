import { CallHandler, ExecutionContext, HttpCode, NestInterceptor, SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Observable, map, mergeMap } from 'rxjs';
import { Encoded, prepareEncoded } from './encoded';
import { JSON_TYPE, prepareDocument, toJson } from './wire';

/**
 * How a route's return value becomes its HTTP answer. Handlers return values; the one `Responder`
 * below encodes them, so negotiation, ETags, gzip and exact content types live in one place.
 */
export type ResponseContract =
  /** Tiled's documents: JSON or msgpack by Accept, exact content types, optional ETag and Expires. */
  | { kind: 'document'; etag: boolean; expiresInMs?: number }
  /** JSON whatever the Accept header, as Tiled's token-issuing routes answer. */
  | { kind: 'json'; noStore: boolean }
  /** A body the handler encoded itself (`BodyResponse`): text, HTML, an asset, a redirect. */
  | { kind: 'body' };

export const RESPONSE_CONTRACT = 'tiled:response-contract';

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
 * The one encoder of return values. Bound per route (an instance per decorator, so no metadata is read
 * per request) and only on routes that declare a contract: the catalog's hot routes pay nothing for it.
 *
 * Nest sets the route's `@HttpCode` status after an interceptor runs, so an answer whose status differs
 * from the route's (a 304, a redirect, an error page) is handed back as a web `Response`, whose status
 * Nest keeps; headers already set on the reply stay.
 */
export class Responder implements NestInterceptor {
  constructor(private readonly contract: ResponseContract) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const contract = this.contract;
    // Synchronous unless a body has to be gzipped: most answers take no extra promise.
    if (contract.kind !== 'body') return next.handle().pipe(map((value: unknown) => encodeValue(contract, request, reply, value)));
    return next.handle().pipe(
      mergeMap((value: unknown) => {
        const encoded = encodeBody(request, reply, value as BodyResponse);
        return encoded instanceof Promise ? encoded : [encoded];
      }),
    );
  }
}

function encodeValue(contract: Exclude<ResponseContract, { kind: 'body' }>, request: FastifyRequest, reply: FastifyReply, value: unknown): Buffer | Response {
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
  if (response.encoded) return prepareEncoded(request, reply, response.encoded).then((body) => (body === null ? notModified() : withStatus(body, status)));
  const body = Buffer.isBuffer(response.body) ? response.body : Buffer.from(response.body);
  if (body.length) reply.header('content-type', response.type);
  return withStatus(body, status);
}

function withStatus(body: Buffer, status: number): Buffer | Response {
  if (status === 200) return body;
  return new Response(body.length ? new Uint8Array(body.buffer, body.byteOffset, body.length) : null, { status });
}

function notModified(): Response {
  return new Response(null, { status: 304 });
}

function respondsWith(contract: ResponseContract): MethodDecorator {
  return applyDecorators(SetMetadata(RESPONSE_CONTRACT, contract), HttpCode(200), UseInterceptors(new Responder(contract)));
}

/** The handler returns a document; it leaves as JSON or msgpack (by Accept), with an ETag unless `etag: false`. */
export function RespondsWithDocument(options: { etag?: boolean; expiresInMs?: number } = {}): MethodDecorator {
  return respondsWith({ kind: 'document', etag: options.etag ?? true, expiresInMs: options.expiresInMs });
}

/** The handler returns a value sent as JSON whatever the Accept header (token routes, as Tiled 0.2.16). */
export function RespondsWithJson(options: { noStore?: boolean } = {}): MethodDecorator {
  return respondsWith({ kind: 'json', noStore: options.noStore ?? false });
}

/** The handler returns a `BodyResponse` it encoded itself. */
export function RespondsWithBody(): MethodDecorator {
  return respondsWith({ kind: 'body' });
}
