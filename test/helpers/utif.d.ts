/** The part of UTIF (which ships no types) that test/e2e/exports.e2e-spec.ts reads TIFF exports with. */
declare module 'utif' {
  export interface Ifd {
    width: number;
    height: number;
    data: Uint8Array;
    /** BitsPerSample */
    t258: number[];
    /** SampleFormat */
    t339?: number[];
  }
  export function decode(buffer: ArrayBufferLike | Uint8Array): Ifd[];
  export function decodeImage(buffer: ArrayBufferLike | Uint8Array, ifd: Ifd): void;
}
