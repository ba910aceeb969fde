import { DTYPES, bytesOf } from '../tree/dtype';
import type { ArrayExport } from './registry';

/** numpy's type strings ('<f8', '|u1', …), as written in NPY headers and Zarr v2 `.zarray`. */
export function numpyDescr(dtype: ArrayExport['dtype']): string {
  const info = DTYPES[dtype];
  const kind = dtype === 'bool' ? 'b' : info.kind;
  return `${info.itemsize === 1 ? '|' : '<'}${kind}${info.itemsize}`;
}

/**
 * NPY format version 1.0 (numpy.lib.format): magic, a Python-literal header padded so the data starts
 * on a 64-byte boundary, then the C-order bytes. Not one of Tiled 0.2.16's formats; `numpy.load` reads it.
 */
export function encodeNpy(array: ArrayExport): Buffer {
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${numpyDescr(array.dtype)}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const preamble = Buffer.alloc(10);
  preamble.write('\x93NUMPY', 0, 'latin1');
  preamble[6] = 1;
  preamble[7] = 0;
  preamble.writeUInt16LE(header.length, 8);
  return Buffer.concat([preamble, Buffer.from(header, 'latin1'), bytesOf(array.values)]);
}
