import { TiledHttpError } from '../../common/errors/tiled-http.error';
import { lazyRequire } from '../../common/lazy-require';
import { pyTuple } from '../http/python-repr';
import type { ArrayExport } from './registry';

/** Loaded by the first PNG export. */
const pngjs = lazyRequire<typeof import('pngjs')>('pngjs');

/** numpy's `percentile(..., method='linear')` of values already copied into `sorted`'s scratch buffer. */
function percentile(data: Float64Array, q: number): number {
  const position = (q / 100) * (data.length - 1);
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  const a = nthElement(data, lo);
  const b = hi === lo ? a : nthElement(data, hi);
  return a + (b - a) * (position - lo);
}

/** The k-th smallest value (quickselect, in place): linear time, where a full sort would hold the loop for longer. */
function nthElement(data: Float64Array, k: number): number {
  let left = 0;
  let right = data.length - 1;
  while (right > left) {
    const pivot = data[(left + right) >> 1];
    let i = left;
    let j = right;
    while (i <= j) {
      while (data[i] < pivot) i++;
      while (data[j] > pivot) j--;
      if (i <= j) {
        const t = data[i];
        data[i] = data[j];
        data[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return data[k];
}

/**
 * Tiled's auto-scaling for images: clip to the 1st–99th percentile range, map it onto 0…255
 * (`img_as_ubyte`: multiply by 255 and round half to even), as tiled/serialization/array.py does.
 */
export function scaleToBytes(values: ArrayExport['values']): Uint8Array {
  const data = Float64Array.from(values as ArrayLike<number>, Number);
  const scratch = data.slice();
  const low = percentile(scratch, 1);
  const high = percentile(scratch, 99);
  const out = new Uint8Array(data.length);
  const range = high - low;
  for (let i = 0; i < data.length; i++) {
    // A constant image divides by zero in numpy; the NaNs become 0 in the cast.
    const scaled = range > 0 ? Math.min(1, Math.max(0, (data[i] - low) / range)) : 0;
    const v = scaled * 255;
    const r = Math.round(v);
    out[i] = Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : Number.isNaN(v) ? 0 : r;
  }
  return out;
}

/** Which PNG colour type a (height, width[, channels]) array becomes, as PIL's `Image.fromarray` decides. */
function layout(shape: readonly number[]): { width: number; height: number; channels: number } | null {
  const s = shape.length === 0 ? [1, 1] : shape.length === 1 ? [1, shape[0]] : shape;
  if (s.length === 2) return { height: s[0], width: s[1], channels: 1 };
  if (s.length === 3 && (s[2] === 3 || s[2] === 4)) return { height: s[0], width: s[1], channels: s[2] };
  return null;
}

export function encodePng(array: ArrayExport): Buffer {
  const shape = layout(array.shape);
  if (!shape || shape.width === 0 || shape.height === 0) {
    throw new TiledHttpError(406, `The shape of this data ${pyTuple(array.shape)} is incompatible with the requested format (image/png). Slice it or choose a different format.`);
  }
  const bytes = scaleToBytes(array.values);
  const { PNG } = pngjs();
  const png = new PNG({ width: shape.width, height: shape.height, colorType: 6, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 });
  const rgba = png.data;
  for (let p = 0; p < shape.width * shape.height; p++) {
    const o = p * 4;
    if (shape.channels === 1) {
      rgba[o] = rgba[o + 1] = rgba[o + 2] = bytes[p];
      rgba[o + 3] = 255;
    } else {
      const i = p * shape.channels;
      rgba[o] = bytes[i];
      rgba[o + 1] = bytes[i + 1];
      rgba[o + 2] = bytes[i + 2];
      rgba[o + 3] = shape.channels === 4 ? bytes[i + 3] : 255;
    }
  }
  const colorType = shape.channels === 1 ? 0 : shape.channels === 3 ? 2 : 6;
  return PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 });
}
