/**
 * Freeing a large response body's memory the moment nothing needs it any more, rather than when the
 * garbage collector gets round to it. V8 collects an ArrayBuffer's memory only with the object that owns
 * it, and starts a collection for external memory only once about 64 MiB more of it is held than after
 * the last one: a server sending 8 MiB blocks one after another kept eight or nine sent blocks in memory
 * (bench/hdf5-memory.ts measured 77 MiB of them at its peak), against a target of 300 MiB for the whole
 * process. Detaching the buffer (`transfer(0)`) frees it at once.
 *
 * Only memory nobody else can see may be freed this way. An adapter says so for an array it has just read
 * into memory of its own and will never hand out again (`unsharedArray`); the array is then owned by
 * whoever holds its `BodyMemory`: each response sending it and the block cache keeping it. A holder that
 * never releases only leaves the memory to the garbage collector, as before.
 */
import { types } from 'node:util';

const unshared = new WeakSet<ArrayBufferLike>();

type Detachable = ArrayBuffer & { transfer(newByteLength: number): ArrayBuffer };

function detach(buffer: ArrayBufferLike): void {
  if (buffer.byteLength > 0) (buffer as Detachable).transfer(0);
}

/**
 * Marks `array` as read into memory of its own, which its adapter never hands out again. Only an array
 * spanning its whole buffer is marked: a view on part of one may share it (Node's small Buffers are slices
 * of one pool).
 */
export function unsharedArray<T extends ArrayBufferView>(array: T): T {
  const { buffer } = array;
  if (types.isArrayBuffer(buffer) && array.byteOffset === 0 && array.byteLength === buffer.byteLength) unshared.add(buffer);
  return array;
}

/** Frees an unshared array nothing was built on (a block that was sliced into a new array). */
export function discardUnshared(array: ArrayBufferView): void {
  if (unshared.delete(array.buffer)) detach(array.buffer);
}

/** Counted holders of one unshared buffer: the last `release` frees it. */
export class BodyMemory {
  private holders = 1;

  private constructor(private readonly buffer: ArrayBufferLike) {}

  /** The memory behind `array`, held once by the caller, if its adapter marked it unshared (once per buffer). */
  static of(array: ArrayBufferView): BodyMemory | undefined {
    return unshared.delete(array.buffer) ? new BodyMemory(array.buffer) : undefined;
  }

  hold(): void {
    this.holders++;
  }

  release(): void {
    if (--this.holders === 0) detach(this.buffer);
  }
}
