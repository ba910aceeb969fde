import { hash } from 'node:crypto';
import { encode as msgpackEncode } from '@msgpack/msgpack';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const JSON_TYPE = 'application/json';
export const MSGPACK_TYPE = 'application/x-msgpack';

/**
 * Tiled 0.2.16's negotiation: Accept is split on ", " and each entry compared exactly;
 * the first of `*\/*`, msgpack or JSON decides; anything else falls back to JSON.
 */
export function wantsMsgpack(accept: string | undefined): boolean {
  if (!accept) return false;
  for (const entry of accept.split(', ')) {
    if (entry === MSGPACK_TYPE) return true;
    if (entry === JSON_TYPE || entry === '*/*') return false;
  }
  return false;
}

/** ISO-8601 with an explicit UTC offset and second resolution, as Tiled writes datetimes. */
export function isoUtc(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function jsonReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Date) return isoUtc(raw);
  if (typeof value === 'bigint') return Number(value);
  return value;
}

export function toJson(payload: unknown): string {
  // A replacer function makes JSON.stringify call back into JS for every key (about twice the cost);
  // most documents hold no Date or bigint, so check first and take the native path when we can.
  return needsReplacer(payload) ? JSON.stringify(payload, jsonReplacer) : JSON.stringify(payload);
}

/** True if the value holds a Date or bigint, or anything with its own toJSON whose output we cannot see. */
function needsReplacer(value: unknown): boolean {
  if (typeof value === 'bigint') return true;
  if (value === null || typeof value !== 'object') return false;
  if (value instanceof Date || typeof (value as { toJSON?: unknown }).toJSON === 'function') return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (needsReplacer(value[i])) return true;
    return false;
  }
  for (const key in value) {
    if (needsReplacer((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

export function toMsgpack(payload: unknown): Buffer {
  const bytes = msgpackEncode(payload, { ignoreUndefined: true, useBigInt64: true });
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function etagOf(body: Buffer | string): string {
  // One-shot hashing: no Hash object per response.
  return hash('md5', body, 'hex');
}

export interface SendOptions {
  /** Adds ETag and answers 304 to a matching If-None-Match. */
  etag?: boolean;
  expires?: Date;
}

/** Encode a document as JSON or msgpack by the request's Accept, with Tiled's exact content types. */
export function encodeDocument(request: FastifyRequest, payload: unknown): { body: Buffer; type: string } {
  if (wantsMsgpack(request.headers.accept)) return { body: toMsgpack(payload), type: MSGPACK_TYPE };
  // A Buffer, not a string: Fastify would append "; charset=utf-8", which Tiled's client does not accept.
  return { body: Buffer.from(toJson(payload)), type: JSON_TYPE };
}

/**
 * The headers and bytes of a document (JSON or msgpack by Accept), or `null` when a matching
 * If-None-Match means the caller answers 304. Headers are set on the reply; the status is the caller's.
 */
export function prepareDocument(request: FastifyRequest, reply: FastifyReply, payload: unknown, options: SendOptions = {}): Buffer | null {
  const { body, type } = encodeDocument(request, payload);
  if (options.expires) reply.header('expires', options.expires.toUTCString());
  if (options.etag) {
    const tag = etagOf(body);
    reply.header('etag', tag);
    if (request.headers['if-none-match'] === tag) return null;
  }
  reply.header('content-type', type);
  return body;
}

/**
 * The API root as clients must see it: Tiled builds it from X-Forwarded-Proto/Host, else the request.
 * Links, X-Tiled-Root and the about document all use this.
 */
export function apiBase(request: FastifyRequest): string {
  const proto = firstHeader(request.headers['x-forwarded-proto']) ?? request.protocol ?? 'http';
  const host = firstHeader(request.headers['x-forwarded-host']) ?? request.headers.host ?? 'localhost';
  return `${proto}://${host}/api/v1`;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first.split(',')[0].trim() || undefined;
}
