import { createHash } from 'node:crypto';

export { COMPRESSION_THRESHOLD, acceptsGzip } from '../../common/http/encoded';
export type { Encoded } from '../../common/http/encoded';

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
