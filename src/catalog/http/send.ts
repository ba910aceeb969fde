import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

const gzip = promisify(gzipCallback);

/** Tiled compresses bodies of at least this many bytes (as 10-arrays.txt shows). */
export const COMPRESSION_THRESHOLD = 1000;

/** An encoded response body with its ETag; `gzipped` is filled lazily and kept with the body. */
export interface Encoded {
  body: Buffer;
  type: string;
  etag: string;
  gzipped?: Buffer | null;
}

export function md5(...parts: (Buffer | string)[]): string {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** Bytes hashed between two yields to the event loop. */
const HASH_SLICE = 1 << 20;

/**
 * `md5(body, type)` for bodies of any size without holding the event loop: a 16 MiB array takes
 * about 25 ms to hash, so large bodies are hashed a mebibyte at a time with other work let in between.
 */
export async function md5OfBody(body: Buffer, type: string): Promise<string> {
  if (body.length <= HASH_SLICE) return md5(body, type);
  const hash = createHash('md5');
  for (let start = 0; start < body.length; start += HASH_SLICE) {
    hash.update(body.subarray(start, start + HASH_SLICE));
    await yieldToEventLoop();
  }
  return hash.update(type).digest('hex');
}

/** Let pending I/O (other requests, health checks) run before continuing a long piece of work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  if (!header) return false;
  for (const entry of String(header).split(',')) {
    const [name, ...params] = entry.trim().split(';');
    if (name.trim().toLowerCase() !== 'gzip') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}

function isDocument(type: string): boolean {
  return type === 'application/json' || type === 'application/x-msgpack';
}

/**
 * Send an encoded body: ETag / If-None-Match → 304, then gzip when the client asks and it pays off
 * (Tiled: level 9 for JSON/msgpack, 1 for data; only if it saves 10 %). The compressed bytes are kept
 * on the Encoded object so cached documents and blocks are compressed once.
 */
export async function sendEncoded(
  request: FastifyRequest,
  reply: FastifyReply,
  encoded: Encoded,
  headers: Record<string, string> = {},
): Promise<FastifyReply> {
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  reply.header('etag', encoded.etag);
  if (request.headers['if-none-match'] === encoded.etag) return reply.code(304).send();
  reply.header('content-type', encoded.type);
  if (encoded.body.length >= COMPRESSION_THRESHOLD && acceptsGzip(request)) {
    if (encoded.gzipped === undefined) {
      const compressed = await gzip(encoded.body, { level: isDocument(encoded.type) ? 9 : 1 });
      encoded.gzipped = compressed.length < encoded.body.length * 0.9 ? compressed : null;
    }
    const existing = reply.getHeader('vary');
    reply.header('vary', existing ? `${String(existing)}, Accept-Encoding` : 'Accept-Encoding');
    if (encoded.gzipped) {
      reply.header('content-encoding', 'gzip');
      return reply.code(200).send(encoded.gzipped);
    }
  }
  return reply.code(200).send(encoded.body);
}
