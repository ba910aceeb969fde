/**
 * NPY files (numpy's `np.save` format), as Tiled 0.2.16 serves `application/x-npy`.
 *
 * The format is a fixed header (magic, version, a Python-literal dict of `descr`, `fortran_order` and
 * `shape`) followed by the raw C-order values, so no library is needed to read it lazily: opening reads
 * the header only, and a block is read with positioned reads of its own bytes. (npm's NPY readers parse
 * a whole in-memory file, which is what this adapter must avoid.)
 */
import { open as openFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ArrayNode } from '../catalog/tree/tree.types';
import { AdapterError, type AdapterRegistration, type AdapterSource } from './adapter.types';
import { blockRegion, boundedBlockShape, chunksFor, dtypeOf, type ElementType, fileError, swapBytes, typedArrayOf } from './array-support';
import { readContiguousBlock } from './contiguous-reader';
import { unsharedArray } from '../common/http/body-memory';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
/** numpy's own limit on header length in `np.load` (it refuses larger headers as untrusted). */
const MAX_HEADER_BYTES = 10000;

export interface NpyHeader {
  type: ElementType;
  shape: number[];
  fortranOrder: boolean;
  dataOffset: number;
}

/** Parses the header of an NPY file from its first bytes; throws a plain Error saying what is wrong. */
export function parseNpyHeader(head: Buffer): NpyHeader {
  if (head.length < 10 || !head.subarray(0, 6).equals(MAGIC)) throw new Error('not an NPY file (bad magic)');
  const major = head[6];
  if (major < 1 || major > 3) throw new Error(`unsupported NPY version ${major}.${head[7]}`);
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
  const start = 8 + lengthBytes;
  if (headerLength > MAX_HEADER_BYTES) throw new Error(`header of ${headerLength} bytes is larger than numpy allows`);
  if (head.length < start + headerLength) throw new Error('truncated header');
  const text = head.subarray(start, start + headerLength).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new Error('header lacks descr, fortran_order or shape');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`bad shape (${shapeText})`);
      return n;
    });
  return { type: parseDescr(descr), shape, fortranOrder: fortran === 'True', dataOffset: start + headerLength };
}

function parseDescr(descr: string): ElementType {
  const match = /^([<>|=]?)([biuf?])(\d*)$/.exec(descr);
  if (!match) throw new AdapterError(`Element type "${descr.slice(0, 40)}" is not supported (structured, string and datetime arrays are not)`, 415);
  const [, order, code, size] = match;
  if (code === '?' || (code === 'b' && size === '1')) return { kind: 'b', itemsize: 1, littleEndian: true };
  const kind = code as 'i' | 'u' | 'f';
  return { kind, itemsize: Number(size), littleEndian: order !== '>' };
}

async function openNpy(source: AdapterSource): Promise<ArrayNode> {
  const path = source.paths[0];
  const name = basename(path);
  let header: NpyHeader;
  let size: number;
  try {
    const handle = await openFile(path, 'r');
    try {
      size = (await handle.stat()).size;
      const head = Buffer.alloc(Math.min(size, 12 + MAX_HEADER_BYTES));
      await handle.read(head, 0, head.length, 0);
      header = parseNpyHeader(head);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw error instanceof AdapterError ? new AdapterError(`${name}: ${error.message}`, error.status) : fileError(name, error);
  }
  const dtype = dtypeOf(header.type, name);
  if (header.fortranOrder && header.shape.filter((n) => n > 1).length > 1) {
    throw new AdapterError(`${name}: Fortran-ordered arrays are not supported; save it with np.ascontiguousarray`, 415);
  }
  const { itemsize } = header.type;
  const expected = header.dataOffset + header.shape.reduce((a, b) => a * b, itemsize);
  if (size < expected) throw new AdapterError(`${name}: Truncated (${size} bytes, the header describes ${expected})`, 422);
  const chunks = chunksFor(header.shape, boundedBlockShape(header.shape, itemsize));
  return {
    family: 'array',
    metadata: {},
    dtype,
    shape: header.shape,
    chunks,
    async readBlock(block) {
      const region = blockRegion(chunks, block);
      try {
        // The file may have changed since it was opened: a shorter file is reported, not misread.
        if ((await stat(path)).size < expected) throw Object.assign(new Error('the file shrank since it was opened'), { code: 'ETRUNCATED' });
        const bytes = await readContiguousBlock(path, header.dataOffset, header.shape, itemsize, region.offset, region.shape);
        if (!header.type.littleEndian) swapBytes(bytes, itemsize);
        // Read for this request alone: the server may free it once sent.
        return unsharedArray(typedArrayOf(dtype, bytes));
      } catch (error) {
        throw fileError(name, error);
      }
    },
  };
}

export const npyAdapter: AdapterRegistration = {
  mimetype: 'application/x-npy',
  extensions: ['.npy'],
  open: openNpy,
};
