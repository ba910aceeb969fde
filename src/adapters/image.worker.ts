/**
 * The image decoding thread: fast-png and jpeg-js decode a whole file synchronously (a large photo takes
 * a second or more), so decoding runs here and the server's event loop only receives the pixels.
 * Supervised by ReaderThread (reader-thread.ts) from image.ts.
 */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { decode as decodeJpeg } from 'jpeg-js';
import type { ThreadResponse } from './reader-thread';
import { dynamicImport } from '../common/esm';

type FastPng = typeof import('fast-png/lib/index');

export interface ImageRequest {
  id: number;
  format: 'png' | 'jpeg';
  path: string;
  /** Channels the header announced: 1 keeps grayscale JPEG to one channel. */
  channels: number;
  maxBytes: number;
}

let fastPng: Promise<FastPng> | undefined;

async function decode(request: ImageRequest): Promise<Uint8Array> {
  const bytes = await readFile(request.path);
  if (request.format === 'jpeg') {
    const image = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: Math.ceil(request.maxBytes / (1024 * 1024)) });
    if (request.channels !== 1) return image.data;
    // jpeg-js repeats a grayscale sample into R, G and B; the array has one channel, as numpy's view of PIL's "L" image.
    const gray = new Uint8Array(image.data.length / 3);
    for (let i = 0; i < gray.length; i++) gray[i] = image.data[i * 3];
    return gray;
  }
  fastPng ??= dynamicImport<FastPng>('fast-png');
  const png = await fastPng;
  const image = png.decode(bytes);
  if (image.palette) return png.convertIndexedToRgb(image);
  return new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength);
}

parentPort?.on('message', (request: ImageRequest) => {
  decode(request).then(
    (pixels) => {
      const buffer = pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength ? (pixels.buffer as ArrayBuffer) : pixels.slice().buffer;
      const response: ThreadResponse<{ bytes: ArrayBuffer }> = { id: request.id, ok: true, bytes: buffer };
      parentPort?.postMessage(response, [buffer]);
    },
    (error: unknown) => {
      const code = (error as { code?: unknown } | null)?.code;
      const response: ThreadResponse<never> = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error), code: typeof code === 'string' ? code : undefined };
      parentPort?.postMessage(response);
    },
  );
});
