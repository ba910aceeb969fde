import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BodyMemory } from './body-memory';

const gzip = promisify(gzipCallback);

/** Tiled compresses bodies of at least this many bytes (as the captured 10-arrays exchange shows). */
export const COMPRESSION_THRESHOLD = 1000;

/**
 * An encoded response body with its ETag; `gzipped` is filled lazily and kept with the body. With `memory`
 * the body's bytes are freed once its holders are done: whoever hands an Encoded with memory to a response
 * holds it once for that response, and the response releases it when sent (encodeBody, responds.ts).
 */
export interface Encoded {
  body: Buffer;
  type: string;
  etag: string;
  gzipped?: Buffer | null;
  memory?: BodyMemory;
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

/** Compression is kept only if it saves 10 % (Tiled's rule). */
const PAYS = 0.9;
/** Data bodies larger than this are first tried on a sample: see samplePays. */
const SAMPLED_ABOVE = 1024 * 1024;
const SAMPLE_PIECE = 32 * 1024;

/**
 * Whether gzip would save 10 % of a large data body, judged on three pieces of it (start, middle, end):
 * measured float data (noise in the low bits) does not compress, and gzipping 8 MB of it only to throw the
 * result away cost about 100 ms a block for every client that accepts gzip (Tiled's Python client does).
 */
async function samplePays(body: Buffer): Promise<boolean> {
  if (body.length <= SAMPLED_ABOVE) return true;
  const middle = Math.floor(body.length / 2);
  const sample = Buffer.concat([body.subarray(0, SAMPLE_PIECE), body.subarray(middle, middle + SAMPLE_PIECE), body.subarray(body.length - SAMPLE_PIECE)]);
  return (await gzip(sample, { level: 1 })).length < sample.length * PAYS;
}

function isDocument(type: string): boolean {
  return type === 'application/json' || type === 'application/x-msgpack';
}

/**
 * The headers and bytes of an encoded body: ETag / If-None-Match → `null` (the caller answers 304),
 * then gzip when the client asks and it pays off (Tiled: level 9 for JSON/msgpack, 1 for data; only if
 * it saves 10 %; a large data body is first tried on a sample). The compressed bytes are kept on the Encoded object so cached documents and blocks
 * are compressed once. Headers are set on the reply; the status is the caller's.
 */
export async function prepareEncoded(request: FastifyRequest, reply: FastifyReply, encoded: Encoded): Promise<Buffer | null> {
  reply.header('etag', encoded.etag);
  if (request.headers['if-none-match'] === encoded.etag) return null;
  reply.header('content-type', encoded.type);
  if (encoded.body.length >= COMPRESSION_THRESHOLD && acceptsGzip(request)) {
    if (encoded.gzipped === undefined) {
      if (!isDocument(encoded.type) && !(await samplePays(encoded.body))) encoded.gzipped = null;
      else {
        const compressed = await gzip(encoded.body, { level: isDocument(encoded.type) ? 9 : 1 });
        encoded.gzipped = compressed.length < encoded.body.length * PAYS ? compressed : null;
      }
    }
    const existing = reply.getHeader('vary');
    reply.header('vary', existing ? `${String(existing)}, Accept-Encoding` : 'Accept-Encoding');
    if (encoded.gzipped) {
      reply.header('content-encoding', 'gzip');
      return encoded.gzipped;
    }
  }
  return encoded.body;
}
