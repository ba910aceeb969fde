import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCsv, SAMPLE_ROWS } from './csv';

describe(openCsv.name, () => {
  let dir: string;
  const csv = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tiled-csv-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should infer types as pandas: an empty cell makes integers float64 (NaN), booleans strings', async () => {
    const node = await openCsv({ mimetype: 'text/csv', paths: [csv('gaps.csv', 'i,f,b,s,,i\n1,1.5,True,x,7,2\n,2,,,8,3\n')] });
    expect(node.columns).toEqual([
      { name: 'i', type: 'float64' },
      { name: 'f', type: 'float64' },
      { name: 'b', type: 'string' },
      { name: 's', type: 'string' },
      { name: 'Unnamed: 4', type: 'int64' },
      { name: 'i.1', type: 'int64' },
    ]);
    const part = await node.readPartition(0);
    expect([...(part.i as Float64Array)]).toEqual([1, NaN]);
    expect(part.b).toEqual(['True', '']);
    expect([...(part['i.1'] as BigInt64Array)]).toEqual([2n, 3n]);
  });

  it('should answer 422 naming column and row when a cell past the sampled rows does not fit', async () => {
    const rows = Array.from({ length: SAMPLE_ROWS + 5 }, (_, i) => String(i));
    rows[SAMPLE_ROWS + 2] = 'n/a';
    const node = await openCsv({ mimetype: 'text/csv', paths: [csv('late.csv', `a\n${rows.join('\n')}\n`)] });
    expect(node.columns).toEqual([{ name: 'a', type: 'int64' }]);
    await expect(Promise.resolve(node.readPartition(0))).rejects.toMatchObject({
      status: 422,
      message: `Column "a", row ${SAMPLE_ROWS + 3}: "n/a" is not int64, the type the first rows of the file gave this column`,
    });
  });

  it('should read several files as one table, a partition each', async () => {
    const node = await openCsv({ mimetype: 'multipart/related;type=text/csv', paths: [csv('p1.csv', 'a\n1\n'), csv('p2.csv', 'a\n2\n3\n')] });
    expect(node.npartitions).toBe(2);
    expect([...((await node.readPartition(1)).a as BigInt64Array)]).toEqual([2n, 3n]);
  });

  it('should cut a file into partitions at line breaks, every row in exactly one, whatever the block size', async () => {
    const values = Array.from({ length: 40 }, (_, i) => 10 ** (i % 7) + i);
    const path = csv('blocks.csv', `n,label\n${values.map((v) => `${v},"r${v}"`).join('\n')}\n`);
    for (const blockBytes of [1, 2, 7, 13, 16, 64, 1000]) {
      const node = await openCsv({ mimetype: 'text/csv', paths: [path] }, blockBytes);
      const seen: bigint[] = [];
      const labels: string[] = [];
      for (let i = 0; i < node.npartitions; i++) {
        const part = await node.readPartition(i);
        seen.push(...(part.n as BigInt64Array));
        labels.push(...(part.label as string[]));
      }
      expect({ blockBytes, seen }).toEqual({ blockBytes, seen: values.map(BigInt) });
      expect(labels).toEqual(values.map((v) => `r${v}`));
    }
  });

  it('should refuse an empty file', async () => {
    await expect(openCsv({ mimetype: 'text/csv', paths: [csv('empty.csv', '')] })).rejects.toMatchObject({ status: 422, message: 'The CSV file is empty: it has no header row' });
  });
});
