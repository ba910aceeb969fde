import { convertColumnYielding, inferColumnType } from './table-columns';

describe(convertColumnYielding.name, () => {
  const cells = Array.from({ length: 150_000 }, (_, i) => String(i));

  it('should give the same values as one pass when converting many rows a slice at a time', async () => {
    const ints = (await convertColumnYielding('n', cells, 'int64')) as BigInt64Array;
    expect(ints).toBeInstanceOf(BigInt64Array);
    expect([ints.length, ints[0], ints[65_536], ints[149_999]]).toEqual([150_000, 0n, 65_536n, 149_999n]);
    const strings = (await convertColumnYielding('s', cells, 'string')) as string[];
    expect([strings.length, strings[70_000]]).toEqual([150_000, '70000']);
  });

  it('should name the row of a bad cell counted from the first row, in any slice', async () => {
    const bad = [...cells];
    bad[140_000] = 'x';
    await expect(convertColumnYielding('n', bad, 'float64')).rejects.toThrow('Column "n", row 140001: "x" is not float64');
  });

  it('should infer types as pandas', () => {
    expect(inferColumnType(['1', '2'])).toBe('int64');
    expect(inferColumnType(['1', ''])).toBe('float64');
    expect(inferColumnType(['1', '2.5e3'])).toBe('float64');
    expect(inferColumnType(['99999999999999999999'])).toBe('float64');
    expect(inferColumnType(['True', 'false'])).toBe('bool');
    expect(inferColumnType(['1', 'a'])).toBe('string');
    expect(inferColumnType(['', ''])).toBe('float64');
  });
});
