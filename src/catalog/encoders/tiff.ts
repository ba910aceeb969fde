import { TiledHttpError } from '../../common/errors/tiled-http.error';
import { lazyRequire } from '../../common/lazy-require';
import { pyTuple } from '../http/python-repr';
import type { ArrayExport } from './registry';

/** geotiff takes ~0.1 s to load: paid by the first TIFF export, not at startup. */
const writer = lazyRequire<typeof import('geotiff')>('geotiff');

/** TIFF SampleFormat: 1 unsigned, 2 signed, 3 IEEE float. */
const SAMPLE_FORMAT: ReadonlyMap<string, number> = new Map([
  ['bool', 1],
  ['uint8', 1],
  ['uint16', 1],
  ['uint32', 1],
  ['int8', 2],
  ['int16', 2],
  ['int32', 2],
  ['float32', 3],
  ['float64', 3],
]);

/** The same bytes as an unsigned view: geotiff's writer mangles signed 16/32-bit input, but copies unsigned words as they are. */
function unsignedView(values: ArrayExport['values']): Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array {
  if (values instanceof Int8Array) return new Uint8Array(values.buffer, values.byteOffset, values.length);
  if (values instanceof Int16Array) return new Uint16Array(values.buffer, values.byteOffset, values.length);
  if (values instanceof Int32Array) return new Uint32Array(values.buffer, values.byteOffset, values.length);
  return values as Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array;
}

/**
 * The values unscaled, in their own data type (what tifffile's `imwrite` keeps, as Tiled 0.2.16 does),
 * one grayscale page; 0-D and 1-D arrays become one row. 64-bit integers have no reader-portable TIFF
 * form in geotiff, so they are refused rather than silently converted.
 */
export function encodeTiff(array: ArrayExport): Buffer {
  const shape = array.shape.length === 0 ? [1, 1] : array.shape.length === 1 ? [1, array.shape[0]] : array.shape;
  const sampleFormat = SAMPLE_FORMAT.get(array.dtype);
  if (sampleFormat === undefined) {
    throw new TiledHttpError(406, `This data's type ${array.dtype} has no TIFF form here (${[...SAMPLE_FORMAT.keys()].join(', ')} do). Choose a different format, such as application/octet-stream.`);
  }
  if (shape.length !== 2 || shape[0] === 0 || shape[1] === 0) {
    throw new TiledHttpError(406, `The shape of this data ${pyTuple(array.shape)} is incompatible with the requested format (image/tiff). Slice it or choose a different format.`);
  }
  const itemsize = array.values.BYTES_PER_ELEMENT;
  const buffer = writer().writeArrayBuffer(unsignedView(array.values), {
    width: shape[1],
    height: shape[0],
    BitsPerSample: [itemsize * 8],
    SampleFormat: [sampleFormat],
    SamplesPerPixel: 1,
    PhotometricInterpretation: 1,
  });
  return Buffer.from(buffer);
}
