import { nodeDataDirectory, parquetAssets, quotePlus, zarrAssets } from './storage-paths';

describe('storage paths', () => {
  describe(quotePlus.name, () => {
    it.each([
      ['simple_key-1.0~x', 'simple_key-1.0~x'],
      ['a b', 'a+b'],
      ['a/b', 'a%2Fb'],
      ['é', '%C3%A9'],
      ["it's (x)*!", 'it%27s+%28x%29%2A%21'],
      ['a+b%', 'a%2Bb%25'],
    ])('should encode %j as Python quote_plus does: %j', (segment, encoded) => {
      expect(quotePlus(segment)).toBe(encoded);
    });
  });

  describe(nodeDataDirectory.name, () => {
    it("should place a node's files under its quote_plus-encoded path, never outside the root", () => {
      expect(nodeDataDirectory('/data', ['scan 1', 'image'])).toBe('/data/scan+1/image');
      expect(nodeDataDirectory('/data', ['..', '.', 'x/../../y'])).toBe('/data/%2E%2E/%2E/x%2F..%2F..%2Fy');
      expect(() => nodeDataDirectory('data', ['x'])).toThrow(/absolute/);
      expect(() => nodeDataDirectory('/data', [])).toThrow(/below the root/);
    });
  });

  it("should describe assets as Tiled records them", () => {
    expect(zarrAssets('/data/a')).toEqual([{ data_uri: 'file://localhost/data/a', is_directory: true, parameter: 'data_uri', num: null }]);
    expect(parquetAssets('/data/t', 2)).toEqual([
      { data_uri: 'file://localhost/data/t/partition-0.parquet', is_directory: false, parameter: 'data_uris', num: 0 },
      { data_uri: 'file://localhost/data/t/partition-1.parquet', is_directory: false, parameter: 'data_uris', num: 1 },
    ]);
  });
});
