import { DTYPES } from '../tree/dtype';
import { cStrides } from '../tree/tree-builders';
import type { ArrayNode, NumericArray } from '../tree/tree.types';
import { pyFloat, pyTuple } from '../http/python-repr';
import { yieldToEventLoop } from '../http/send';

/** Selections larger than this are assembled block by block with the event loop let in between. */
const YIELD_ABOVE_BYTES = 1 << 20;

/** One dimension of a numpy basic index: an integer (drops the dimension) or a slice. */
export type DimIndex = { kind: 'index'; value: number } | { kind: 'slice'; start?: number; stop?: number; step?: number };

const DIM = '(?:(?:-?\\d+)?:){0,2}(?:-?\\d+)?';
export const SLICE_PATTERN_TEXT = `^${DIM}(?:,${DIM})*$`;
export const SLICE_PATTERN = new RegExp(SLICE_PATTERN_TEXT);

export function parseSlice(text: string): DimIndex[] {
  if (text === '') return [];
  return text.split(',').map((part): DimIndex => {
    if (!part.includes(':')) return part === '' ? { kind: 'slice' } : { kind: 'index', value: Number(part) };
    const [start, stop, step] = part.split(':').map((p) => (p === '' || p === undefined ? undefined : Number(p)));
    return { kind: 'slice', start, stop, step };
  });
}

export class SliceError extends Error {}

/** A slice of one dimension as Python's `slice.indices(length)` resolves it: `count` positions from `first`, `step` apart. */
export interface SliceRange {
  first: number;
  step: number;
  count: number;
}

export function sliceRange(length: number, start: number | undefined, stop: number | undefined, step: number | undefined): SliceRange {
  const s = step ?? 1;
  if (s === 0) throw new SliceError('slice step cannot be zero');
  let lo: number;
  let hi: number;
  if (s > 0) {
    lo = start === undefined ? 0 : start < 0 ? Math.max(0, start + length) : Math.min(start, length);
    hi = stop === undefined ? length : stop < 0 ? Math.max(0, stop + length) : Math.min(stop, length);
  } else {
    lo = start === undefined ? length - 1 : start < 0 ? Math.max(-1, start + length) : Math.min(start, length - 1);
    hi = stop === undefined ? -1 : stop < 0 ? Math.max(-1, stop + length) : Math.min(stop, length - 1);
  }
  const count = s > 0 ? Math.max(0, Math.ceil((hi - lo) / s)) : Math.max(0, Math.ceil((lo - hi) / -s));
  return { first: lo, step: s, count };
}

/** The positions a slice selects, expanded. */
function sliceIndices(length: number, start: number | undefined, stop: number | undefined, step: number | undefined): number[] {
  const { first, step: s, count } = sliceRange(length, start, stop, step);
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = first + i * s;
  return out;
}

export interface Selection {
  /** Selected positions per dimension of the source. */
  positions: number[][];
  /** Shape of the result (integer-indexed dimensions dropped). */
  shape: number[];
}

export function select(shape: readonly number[], index: readonly DimIndex[]): Selection {
  if (index.length > shape.length) {
    throw new SliceError(`too many indices for array: array is ${shape.length}-dimensional, but ${index.length} were indexed`);
  }
  const positions: number[][] = [];
  const outShape: number[] = [];
  shape.forEach((length, d) => {
    const spec = index[d] ?? { kind: 'slice' };
    if (spec.kind === 'index') {
      const i = spec.value < 0 ? spec.value + length : spec.value;
      if (i < 0 || i >= length) throw new SliceError(`index ${spec.value} is out of bounds for axis ${d} with size ${length}`);
      positions.push([i]);
    } else {
      const p = sliceIndices(length, spec.start, spec.stop, spec.step);
      positions.push(p);
      outShape.push(p.length);
    }
  });
  return { positions, shape: outShape };
}

function isWhole(shape: readonly number[], sel: Selection): boolean {
  return sel.positions.length === shape.length && sel.positions.every((p, d) => p.length === shape[d] && p.every((v, i) => v === i)) && sel.shape.length === shape.length;
}

/** Copy a region between two C-order arrays, one contiguous innermost run at a time. */
export function copyRegionBetween(
  src: NumericArray,
  srcShape: readonly number[],
  srcStart: readonly number[],
  dst: NumericArray,
  dstShape: readonly number[],
  dstStart: readonly number[],
  region: readonly number[],
): void {
  const nd = region.length;
  const count = region.reduce((a, b) => a * b, 1);
  if (count === 0) return;
  if (nd === 0) {
    (dst as Float64Array)[0] = (src as Float64Array)[0];
    return;
  }
  const ss = cStrides(srcShape);
  const ds = cStrides(dstShape);
  const run = region[nd - 1];
  const index = new Array<number>(nd - 1).fill(0);
  for (let r = 0; r < count / run; r++) {
    let s = srcStart[nd - 1];
    let t = dstStart[nd - 1];
    for (let d = 0; d < nd - 1; d++) {
      s += (srcStart[d] + index[d]) * ss[d];
      t += (dstStart[d] + index[d]) * ds[d];
    }
    (dst as Float64Array).set((src as Float64Array).subarray(s, s + run), t);
    for (let d = nd - 2; d >= 0; d--) {
      if (++index[d] < region[d]) break;
      index[d] = 0;
    }
  }
}

/** Gather the selected positions out of a C-order array of `shape`. */
export function gather(source: NumericArray, shape: readonly number[], sel: Selection, create: (n: number) => NumericArray): NumericArray {
  if (isWhole(shape, sel)) return source;
  const count = sel.positions.reduce((a, p) => a * p.length, 1);
  const out = create(count);
  if (count === 0) return out;
  const strides = cStrides(shape);
  const nd = shape.length;
  const index = new Array<number>(nd).fill(0);
  for (let i = 0; i < count; i++) {
    let flat = 0;
    for (let d = 0; d < nd; d++) flat += sel.positions[d][index[d]] * strides[d];
    (out as Float64Array)[i] = (source as Float64Array)[flat];
    for (let d = nd - 1; d >= 0; d--) {
      if (++index[d] < sel.positions[d].length) break;
      index[d] = 0;
    }
  }
  return out;
}

export async function readBlockChecked(node: ArrayNode, block: readonly number[]): Promise<NumericArray> {
  const values = await node.readBlock(block);
  const expected = block.reduce((a, b, d) => a * node.chunks[d][b], 1);
  if (values.length !== expected) throw new Error(`Adapter returned ${values.length} values for a block of ${expected}`);
  return values;
}

/** Read the selection of a whole array, touching only the blocks inside its bounding box. */
export async function readSelection(node: ArrayNode, sel: Selection): Promise<NumericArray> {
  const create = DTYPES[node.dtype].create;
  const nd = node.shape.length;
  if (nd === 0) return gather(await readBlockChecked(node, []), [], sel, create);
  if (sel.positions.some((p) => p.length === 0)) return create(0);
  if (node.chunks.every((c) => c.length === 1)) {
    return gather(await readBlockChecked(node, node.shape.map(() => 0)), node.shape, sel, create);
  }
  // Slices are monotonic, so the bounds are at the ends (spreading a long list into Math.min would overflow).
  const lo = sel.positions.map((p) => Math.min(p[0], p[p.length - 1]));
  const hi = sel.positions.map((p) => Math.max(p[0], p[p.length - 1]) + 1);
  const boxShape = lo.map((l, d) => hi[d] - l);
  const box = create(boxShape.reduce((a, b) => a * b, 1));
  const perDim = node.chunks.map((lengths, d) => {
    const hits: { index: number; start: number; length: number }[] = [];
    let start = 0;
    lengths.forEach((length, index) => {
      if (start < hi[d] && start + length > lo[d]) hits.push({ index, start, length });
      start += length;
    });
    return hits;
  });
  const combo = new Array<number>(nd).fill(0);
  for (;;) {
    const chosen = combo.map((c, d) => perDim[d][c]);
    const values = await readBlockChecked(node, chosen.map((c) => c.index));
    const from = chosen.map((c, d) => Math.max(lo[d], c.start));
    const to = chosen.map((c, d) => Math.min(hi[d], c.start + c.length));
    copyRegionBetween(
      values,
      chosen.map((c) => c.length),
      from.map((f, d) => f - chosen[d].start),
      box,
      boxShape,
      from.map((f, d) => f - lo[d]),
      from.map((f, d) => to[d] - f),
    );
    let d = nd - 1;
    while (d >= 0 && ++combo[d] >= perDim[d].length) combo[d--] = 0;
    if (d < 0) break;
    // Copying one block of a large selection is a few milliseconds; let other requests in between.
    if (box.byteLength > YIELD_ABOVE_BYTES) await yieldToEventLoop();
  }
  const shifted: Selection = { positions: sel.positions.map((p, d) => p.map((v) => v - lo[d])), shape: sel.shape };
  return gather(box, boxShape, shifted, create);
}

function scalarText(value: number | bigint, kind: string, json: boolean): string {
  if (kind === 'b') return json ? (value ? 'true' : 'false') : value ? 'True' : 'False';
  if (kind === 'f') {
    const n = Number(value);
    if (json && !Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
    return pyFloat(n);
  }
  return String(value);
}

/**
 * Text encodings format every number as Python does, about 2 µs each: the largest array allowed in a
 * text format (262,144 elements) takes half a second. They run in slices of at most this long, with
 * other requests let in between, so one text download cannot hold up the server.
 */
const ENCODE_SLICE_MS = 8;

/** Tells a long loop when its slice is over; checking the clock costs, so only every 1024 steps. */
class SliceClock {
  private steps = 0;
  private sliceStart = performance.now();

  async tick(): Promise<void> {
    if ((++this.steps & 1023) !== 0 || performance.now() - this.sliceStart < ENCODE_SLICE_MS) return;
    await yieldToEventLoop();
    this.sliceStart = performance.now();
  }
}

/** Nested JSON lists, numbers written as Python's json module writes them. */
export async function toJsonText(values: NumericArray, shape: readonly number[], kind: string): Promise<string> {
  if (shape.length === 0) return scalarText(values[0], kind, true);
  const parts: string[] = [];
  const clock = new SliceClock();
  let i = 0;
  const walk = async (d: number): Promise<void> => {
    parts.push('[');
    for (let k = 0; k < shape[d]; k++) {
      if (k) parts.push(',');
      if (d === shape.length - 1) {
        parts.push(scalarText(values[i++], kind, true));
        await clock.tick();
      } else await walk(d + 1);
    }
    parts.push(']');
  };
  await walk(0);
  return parts.join('');
}

export function csvUnsupported(shape: readonly number[], type: string): string {
  return `The shape of this data ${pyTuple(shape)} is incompatible with the requested format (${type}). Slice it or choose a different format.`;
}

/** Rows of comma-separated values without a header (≤ 2-D), as Tiled writes arrays. */
export async function toCsvText(values: NumericArray, shape: readonly number[], kind: string): Promise<string> {
  const rowLength = shape.length === 2 ? shape[1] : 1;
  const lines: string[] = [];
  const clock = new SliceClock();
  for (let start = 0; start < values.length; start += rowLength) {
    const row: string[] = [];
    for (let k = 0; k < rowLength; k++) {
      row.push(scalarText(values[start + k], kind, false));
      await clock.tick();
    }
    lines.push(row.join(','));
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
