import { BodyMemory, discardUnshared, unsharedArray } from './body-memory';

describe('body memory', () => {
  it('frees an unshared array when its last holder lets go, and not before', () => {
    const values = unsharedArray(new Float64Array(1024).fill(7));
    const memory = BodyMemory.of(values)!;
    memory.hold();
    memory.release();
    expect(values.length).toBe(1024);
    expect(values[1023]).toBe(7);
    memory.release();
    expect(values.buffer.byteLength).toBe(0);
  });

  it('never frees memory an adapter did not mark, nor a view on part of a buffer (a pooled Buffer)', () => {
    expect(BodyMemory.of(new Float64Array(8))).toBeUndefined();
    const pooled = Buffer.from('small buffers are slices of a shared pool');
    expect(BodyMemory.of(unsharedArray(pooled))).toBeUndefined();
    discardUnshared(pooled);
    expect(pooled.toString()).toBe('small buffers are slices of a shared pool');
    const marked = unsharedArray(new Uint8Array(16));
    expect(BodyMemory.of(marked)).toBeDefined();
    // One owner per buffer: asking again gives none, so two owners can never count the same holders.
    expect(BodyMemory.of(marked)).toBeUndefined();
  });

  it('discards a block that was sliced into a new array', () => {
    const block = unsharedArray(new Int32Array(4));
    discardUnshared(block);
    expect(block.buffer.byteLength).toBe(0);
  });
});
