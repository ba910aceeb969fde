import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bool, Field, Float32, Float64, Int32, Int64, Int8, LargeUtf8, Schema, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import type { DataType } from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { encodeArrowSchema } from '../data/table-data';
import type { TableColumn } from '../tree/tree.types';
import { createParquetTable, parquetTableNode, writeParquetPartition } from './parquet-table';
import { StorageError, StorageErrorCode } from './storage.errors';
import type { TableStructure } from './table-structure';

// The Rust parquet crate (through WebAssembly): a reader and writer sharing no code with hyparquet.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS build, loaded as such
const parquetWasm = require('parquet-wasm/node') as typeof import('parquet-wasm/node/parquet_wasm');

const COLUMNS: TableColumn[] = [
  { name: 'flag', type: 'bool' },
  { name: 'i32', type: 'int32' },
  { name: 'i64', type: 'int64' },
  { name: 'f32', type: 'float32' },
  { name: 'f64', type: 'float64' },
  { name: 'text', type: 'string' },
];

function structure(columns: TableColumn[] = COLUMNS, npartitions = 2): TableStructure {
  return { arrow_schema: encodeArrowSchema(columns), npartitions, columns: columns.map((c) => c.name), resizable: false };
}

const ROWS = {
  flag: [true, false, true],
  i32: new Int32Array([1, -2, 2147483647]),
  i64: new BigInt64Array([9007199254740993n, -1n, 0n]),
  f32: new Float32Array([0.5, -1.25, 3]),
  f64: new Float64Array([1e300, -0.1, 2.5]),
  text: ['a', 'héllo, "world"', ''],
};

function arrowFile(columns: Record<string, { values: unknown[] | ArrayLike<unknown>; type: DataType }>): Uint8Array {
  const table = new Table(Object.fromEntries(Object.entries(columns).map(([name, c]) => [name, vectorFromArray(Array.from(c.values as ArrayLike<unknown>), c.type)])));
  return tableToIPC(table, 'file');
}

function rowsFile(): Uint8Array {
  return arrowFile({
    flag: { values: ROWS.flag, type: new Bool() },
    i32: { values: ROWS.i32, type: new Int32() },
    i64: { values: ROWS.i64, type: new Int64() },
    f32: { values: ROWS.f32, type: new Float32() },
    f64: { values: ROWS.f64, type: new Float64() },
    text: { values: ROWS.text, type: new Utf8() },
  });
}

async function expectStorageError(work: Promise<unknown>, code: StorageErrorCode, message: RegExp): Promise<void> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe(code);
  expect((err as StorageError).status).toBe(400);
  expect((err as StorageError).message).toMatch(message);
}

describe('Parquet table storage', () => {
  let root: string;
  let n = 0;
  const nextDir = () => join(root, `t${n++}`);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tiled-parquet-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('writeParquetPartition', () => {
    it('should write partition files named as Tiled names them, readable through the node and by another Parquet reader', async () => {
      const dir = nextDir();
      const s = structure();
      await writeParquetPartition(dir, s, 1, rowsFile());
      expect(await readdir(dir)).toEqual(['partition-1.parquet']);

      const node = parquetTableNode(dir, s, { kind: 'x' });
      expect(node).toMatchObject({ family: 'table', npartitions: 2, columns: COLUMNS, metadata: { kind: 'x' } });
      const part = await node.readPartition(1);
      expect(part).toEqual({ ...ROWS });
      expect(Object.keys(await node.readPartition(0))).toEqual(COLUMNS.map((c) => c.name));
      expect((await node.readPartition(0)).i64).toHaveLength(0);

      const other = tableFromIPC(parquetWasm.readParquet(await readFile(join(dir, 'partition-1.parquet'))).intoIPCStream());
      expect(other.schema.fields.map((f) => [f.name, String(f.type)])).toEqual([
        ['flag', 'Bool'],
        ['i32', 'Int32'],
        ['i64', 'Int64'],
        ['f32', 'Float32'],
        ['f64', 'Float64'],
        ['text', 'Utf8'],
      ]);
      expect(other.getChild('i64')?.toArray()).toEqual(ROWS.i64);
      expect(other.getChild('f64')?.toArray()).toEqual(ROWS.f64);
      expect(Array.from(other.getChild('text') ?? [])).toEqual(ROWS.text);
      expect(Array.from(other.getChild('flag') ?? [])).toEqual(ROWS.flag);
    });

    it('should accept large strings and nulls, reading null floats as NaN', async () => {
      const dir = nextDir();
      const columns: TableColumn[] = [
        { name: 'x', type: 'float64' },
        { name: 's', type: 'string' },
      ];
      await writeParquetPartition(dir, structure(columns, 1), 0, arrowFile({ x: { values: [1, null, 3], type: new Float64() }, s: { values: ['p', 'q', null], type: new LargeUtf8() } }));
      const part = await parquetTableNode(dir, structure(columns, 1), {}).readPartition(0);
      expect(Array.from(part.x as Float64Array)).toEqual([1, NaN, 3]);
      expect(part.s).toEqual(['p', 'q', null]);
    });

    it('should write and read back a partition of several row groups', async () => {
      const dir = nextDir();
      const columns: TableColumn[] = [
        { name: 'n', type: 'int64' },
        { name: 's', type: 'string' },
      ];
      const n = Array.from({ length: 2500 }, (_, i) => BigInt(i) * 3n);
      await writeParquetPartition(dir, structure(columns, 1), 0, arrowFile({ n: { values: n, type: new Int64() }, s: { values: n.map(String), type: new Utf8() } }));
      const file = await readFile(join(dir, 'partition-0.parquet'));
      expect(parquetMetadata(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer).row_groups.map((g) => g.num_rows)).toEqual([1000n, 1500n]);
      expect(tableFromIPC(parquetWasm.readParquet(file).intoIPCStream()).getChild('n')?.toArray()).toEqual(BigInt64Array.from(n));
      const part = await parquetTableNode(dir, structure(columns, 1), {}).readPartition(0);
      expect(part.n).toEqual(BigInt64Array.from(n));
      expect((part.s as string[])[2499]).toBe('7497');
    });

    it('should replace a partition whole when it is written again', async () => {
      const dir = nextDir();
      const columns: TableColumn[] = [{ name: 'n', type: 'int32' }];
      await writeParquetPartition(dir, structure(columns, 1), 0, arrowFile({ n: { values: [1, 2, 3], type: new Int32() } }));
      await writeParquetPartition(dir, structure(columns, 1), 0, arrowFile({ n: { values: [4], type: new Int32() } }));
      expect(Array.from((await parquetTableNode(dir, structure(columns, 1), {}).readPartition(0)).n as Int32Array)).toEqual([4]);
    });

    it('should refuse data whose columns differ from the structure, and bodies that are not Arrow', async () => {
      const dir = nextDir();
      const columns: TableColumn[] = [
        { name: 'a', type: 'int64' },
        { name: 'b', type: 'string' },
      ];
      const s = structure(columns, 1);
      await expectStorageError(
        writeParquetPartition(dir, s, 0, arrowFile({ a: { values: [1], type: new Int32() }, b: { values: ['x'], type: new Utf8() } })),
        StorageErrorCode.SchemaMismatch,
        /^The data's columns \(a: int32, b: string\) do not match the table's \(a: int64, b: string\)$/,
      );
      await expectStorageError(writeParquetPartition(dir, s, 0, arrowFile({ a: { values: [1n], type: new Int64() } })), StorageErrorCode.SchemaMismatch, /do not match/);
      await expectStorageError(writeParquetPartition(dir, s, 0, arrowFile({ a: { values: [1], type: new Int8() }, b: { values: ['x'], type: new Utf8() } })), StorageErrorCode.SchemaMismatch, /Column 'a' has type Int8/);
      await expectStorageError(writeParquetPartition(dir, s, 0, new TextEncoder().encode('a,b\n1,x\n')), StorageErrorCode.MalformedData, /not an Arrow IPC file/);
      await expectStorageError(writeParquetPartition(dir, s, 1, arrowFile({ a: { values: [1n], type: new Int64() }, b: { values: ['x'], type: new Utf8() } })), StorageErrorCode.PartitionOutOfRange, /^Partition out of range$/);
      await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
    });

    it('should refuse a structure it cannot store', async () => {
      const dir = nextDir();
      await expectStorageError(createParquetTable(dir, { ...structure(), npartitions: 0 }), StorageErrorCode.UnsupportedStructure, /npartitions/);
      await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
      await createParquetTable(dir, structure());
      expect(await readdir(dir)).toEqual([]);
      await writeParquetPartition(dir, structure(), 1, rowsFile());
      await writeFile(join(dir, 'notes.txt'), 'kept');
      await createParquetTable(dir, structure());
      expect(await readdir(dir)).toEqual(['notes.txt']);
      const int8 = new Schema([new Field('a', new Int8())]);
      const schemaMessage = Buffer.from(tableToIPC(new Table(int8), 'stream'));
      const uri = `data:application/vnd.apache.arrow.file;base64,${schemaMessage.subarray(0, 8 + schemaMessage.readInt32LE(4)).toString('base64')}`;
      const body = arrowFile({ a: { values: [1], type: new Int8() } });
      await expectStorageError(writeParquetPartition(dir, { arrow_schema: uri, npartitions: 1, columns: ['a'] }, 0, body), StorageErrorCode.UnsupportedStructure, /Column 'a' has type Int8, which cannot be stored/);
      await expectStorageError(writeParquetPartition(dir, { ...structure(), arrow_schema: 'data:text/plain,abc' }, 0, body), StorageErrorCode.UnsupportedStructure, /data URI/);
      await expectStorageError(writeParquetPartition(dir, { ...structure(), arrow_schema: 'data:application/vnd.apache.arrow.file;base64,AAAA' }, 0, body), StorageErrorCode.UnsupportedStructure, /not an Arrow IPC schema/);
      await expectStorageError(writeParquetPartition(dir, { ...structure(), npartitions: 0 }, 0, body), StorageErrorCode.UnsupportedStructure, /npartitions/);
    });
  });

  describe('parquetTableNode', () => {
    it('should read a partition written by another Parquet writer, in several row groups', async () => {
      const dir = nextDir();
      const columns: TableColumn[] = [
        { name: 'i64', type: 'int64' },
        { name: 'text', type: 'string' },
      ];
      const arrowTable = parquetWasm.Table.fromIPCStream(tableToIPC(new Table({ i64: vectorFromArray([1n, 2n, 3n, 4n, 5n], new Int64()), text: vectorFromArray(['a', 'b', 'a', 'b', 'c'], new Utf8()) }), 'stream'));
      const props = new parquetWasm.WriterPropertiesBuilder().setMaxRowGroupSize(2).setCompression(parquetWasm.Compression.ZSTD).build();
      await mkdir(dir);
      await writeFile(join(dir, 'partition-0.parquet'), parquetWasm.writeParquet(arrowTable, props));
      const part = await parquetTableNode(dir, structure(columns, 1), {}).readPartition(0);
      expect(part.i64).toEqual(new BigInt64Array([1n, 2n, 3n, 4n, 5n]));
      expect(part.text).toEqual(['a', 'b', 'a', 'b', 'c']);
    });

    it('should refuse a partition out of range', async () => {
      const node = parquetTableNode(nextDir(), structure(), {});
      expect(() => node.readPartition(2)).toThrow(StorageError);
      expect(() => node.readPartition(-1)).toThrow('Partition out of range');
    });
  });
});
