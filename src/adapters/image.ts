/**
 * PNG and JPEG images as arrays, shaped as Tiled 0.2.16 shapes a JPEG (numpy's view of a PIL image):
 * height × width for one channel, height × width × channels otherwise. Tiled has no PNG adapter; PNG
 * follows the same rule (palette images are expanded to RGB or RGBA).
 *
 * Opening reads only the header (PNG chunks up to the image data, JPEG segments up to the frame
 * header), so a folder of images indexes without decoding any. The libraries (fast-png, jpeg-js)
 * decode a whole file at once, so an image is one block and a block read decodes the file, in a
 * thread of its own (image.worker.ts); images whose decoded size exceeds MAX_DECODED_BYTES are
 * refused rather than decoded.
 */
import { open as openFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ArrayNode, DType } from '../catalog/tree/tree.types';
import { AdapterError, type AdapterRegistration, type AdapterSource } from './adapter.types';
import { blockRegion, chunksFor, fileError, typedArrayOf } from './array-support';
import type { ImageRequest } from './image.worker';
import { ReaderThread } from './reader-thread';

/** The largest decoded image served: decoding holds the file and its pixels in memory at once. */
export const MAX_DECODED_BYTES = 256 * 1024 * 1024;

interface ImageHeader {
  height: number;
  width: number;
  channels: number;
  dtype: DType;
}

/** Reads up to `length` bytes at `position`; a short read means the file ends there. */
async function readAt(handle: Awaited<ReturnType<typeof openFile>>, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function pngHeader(path: string): Promise<ImageHeader> {
  const handle = await openFile(path, 'r');
  try {
    const head = await readAt(handle, 0, 33);
    if (head.length < 33 || !head.subarray(0, 8).equals(PNG_SIGNATURE) || head.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG file');
    const width = head.readUInt32BE(16);
    const height = head.readUInt32BE(20);
    const depth = head[24];
    const colorType = head[25];
    if (colorType === 3) {
      // A palette image becomes RGBA when it has a transparency chunk, which must precede the image data.
      let position = 33;
      for (let i = 0; i < 1000; i++) {
        const chunk = await readAt(handle, position, 8);
        if (chunk.length < 8) throw new Error('truncated before the image data');
        const type = chunk.toString('latin1', 4, 8);
        if (type === 'tRNS') return { height, width, channels: 4, dtype: 'uint8' };
        if (type === 'IDAT') break;
        position += 12 + chunk.readUInt32BE(0);
      }
      return { height, width, channels: 3, dtype: 'uint8' };
    }
    const channels = new Map([[0, 1], [2, 3], [4, 2], [6, 4]]).get(colorType);
    if (channels === undefined) throw new Error(`unknown PNG colour type ${colorType}`);
    if (depth !== 8 && depth !== 16) throw new AdapterError(`${depth}-bit PNG samples are not supported (8 and 16 bits are)`, 415);
    return { height, width, channels, dtype: depth === 16 ? 'uint16' : 'uint8' };
  } finally {
    await handle.close();
  }
}

async function jpegHeader(path: string): Promise<ImageHeader> {
  const handle = await openFile(path, 'r');
  try {
    const soi = await readAt(handle, 0, 2);
    if (soi.length < 2 || soi[0] !== 0xff || soi[1] !== 0xd8) throw new Error('not a JPEG file');
    let position = 2;
    for (let i = 0; i < 1000; i++) {
      const marker = await readAt(handle, position, 4);
      if (marker.length < 4 || marker[0] !== 0xff) throw new Error('truncated or corrupt before the frame header');
      const code = marker[1];
      if (code === 0xff) {
        position += 1;
        continue;
      }
      const length = marker.readUInt16BE(2);
      // Start-of-frame markers carry precision, height, width and the number of components.
      if (code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc) {
        const frame = await readAt(handle, position + 4, 6);
        if (frame.length < 6) throw new Error('truncated frame header');
        if (frame[0] !== 8) throw new AdapterError(`${frame[0]}-bit JPEG samples are not supported (8 bits are)`, 415);
        const components = frame[5];
        // jpeg-js converts 4-component (CMYK/YCCK) images to RGB, as PIL does for display.
        return { height: frame.readUInt16BE(1), width: frame.readUInt16BE(3), channels: components === 1 ? 1 : 3, dtype: 'uint8' };
      }
      position += 2 + length;
    }
    throw new Error('no frame header found');
  } finally {
    await handle.close();
  }
}

const decoder = new ReaderThread<Omit<ImageRequest, 'id'>, { bytes: ArrayBuffer }>({ workerPath: join(__dirname, 'image.worker.js'), label: 'image decoder' });

function imageAdapter(format: 'png' | 'jpeg'): (source: AdapterSource) => Promise<ArrayNode> {
  return async (source) => {
    const path = source.paths[0];
    const name = basename(path);
    let header: ImageHeader;
    try {
      header = await (format === 'png' ? pngHeader(path) : jpegHeader(path));
    } catch (error) {
      throw fileError(name, error);
    }
    const { height, width, channels, dtype } = header;
    const itemsize = dtype === 'uint16' ? 2 : 1;
    const expected = height * width * channels * itemsize;
    if (expected > MAX_DECODED_BYTES) {
      throw new AdapterError(`${name}: ${width} × ${height} pixels is too large to decode (limit ${MAX_DECODED_BYTES / (1024 * 1024)} MiB of pixels)`, 422);
    }
    const shape = channels === 1 ? [height, width] : [height, width, channels];
    const chunks = chunksFor(shape, shape);
    return {
      family: 'array',
      metadata: {},
      dtype,
      shape,
      chunks,
      async readBlock(block) {
        blockRegion(chunks, block);
        const { bytes } = await decoder.request({ format, path, channels, maxBytes: MAX_DECODED_BYTES }, name);
        if (bytes.byteLength !== expected) throw new AdapterError(`${name}: Cannot be read: decoded ${bytes.byteLength} bytes, the header announces ${expected}`, 422);
        return typedArrayOf(dtype, new Uint8Array(bytes));
      },
    };
  };
}

export const pngAdapter: AdapterRegistration = {
  mimetype: 'image/png',
  extensions: ['.png'],
  open: imageAdapter('png'),
};

export const jpegAdapter: AdapterRegistration = {
  mimetype: 'image/jpeg',
  extensions: ['.jpg', '.jpeg'],
  open: imageAdapter('jpeg'),
};
