import type { DType, NumericArray } from './tree.types';

export interface DTypeInfo {
  kind: 'b' | 'i' | 'u' | 'f';
  itemsize: number;
  /** numpy writes '|' (not applicable) for one-byte types. */
  endianness: 'little' | 'not_applicable';
  create(length: number): NumericArray;
  bigint: boolean;
}

function info(kind: DTypeInfo['kind'], itemsize: number, create: (n: number) => NumericArray, bigint = false): DTypeInfo {
  return { kind, itemsize, endianness: itemsize === 1 ? 'not_applicable' : 'little', create, bigint };
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  bool: info('b', 1, (n) => new Uint8Array(n)),
  int8: info('i', 1, (n) => new Int8Array(n)),
  uint8: info('u', 1, (n) => new Uint8Array(n)),
  int16: info('i', 2, (n) => new Int16Array(n)),
  uint16: info('u', 2, (n) => new Uint16Array(n)),
  int32: info('i', 4, (n) => new Int32Array(n)),
  uint32: info('u', 4, (n) => new Uint32Array(n)),
  int64: info('i', 8, (n) => new BigInt64Array(n), true),
  uint64: info('u', 8, (n) => new BigUint64Array(n), true),
  float32: info('f', 4, (n) => new Float32Array(n)),
  float64: info('f', 8, (n) => new Float64Array(n)),
};

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, value);
}

/** Little-endian bytes of a typed array without copying (the host is little-endian, as numpy's '<'). */
export function bytesOf(values: NumericArray): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}
