import { Bool, Float32, Float64, Int32, Int64, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import type { DataType } from 'apache-arrow';
import { Client } from 'pg';
import { createTestDatabase, testEngines, TestDatabase } from '../../../test/helpers/postgres';
import { encodeArrowSchema } from '../data/table-data';
import type { TableColumn } from '../tree/tree.types';
import { appendSqlRows, closeSqlStorage, createSqlTable, defaultSqlTableName, sqlTableNode } from './sql-table';
import { StorageError, StorageErrorCode } from './storage.errors';
import type { TableStructure } from './table-structure';

const COLUMNS: TableColumn[] = [
  { name: 'Flag', type: 'bool' },
  { name: 'i32', type: 'int32' },
  { name: 'i64', type: 'int64' },
  { name: 'f32', type: 'float32' },
  { name: 'f64', type: 'float64' },
  { name: 'text', type: 'string' },
];
const TYPES: Record<TableColumn['type'], () => DataType> = { bool: () => new Bool(), int32: () => new Int32(), int64: () => new Int64(), float32: () => new Float32(), float64: () => new Float64(), string: () => new Utf8() };

function structure(columns: TableColumn[] = COLUMNS, npartitions = 2): TableStructure {
  return { arrow_schema: encodeArrowSchema(columns), npartitions, columns: columns.map((c) => c.name), resizable: false };
}

function arrowFile(rows: Record<string, unknown[]>, columns: TableColumn[] = COLUMNS): Uint8Array {
  return tableToIPC(new Table(Object.fromEntries(columns.map((c) => [c.name, vectorFromArray(rows[c.name], TYPES[c.type]())]))), 'file');
}

const FIRST = { Flag: [true, false], i32: [1, -2], i64: [9007199254740993n, -7n], f32: [0.5, 1.5], f64: [1e300, 0.25], text: ['a', "it's \"quoted\"; --"] };
const SECOND = { Flag: [true], i32: [3], i64: [0n], f32: [2], f64: [-1], text: ['é'] };

/** Reads the stored rows with the engine's own client, not through the code under test. */
async function rawRows(db: TestDatabase, sql: string): Promise<Record<string, unknown>[]> {
  if (db.engine === 'sqlite') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require('better-sqlite3') as new (file: string, options: { readonly: boolean }) => {
      prepare(s: string): { safeIntegers(on: boolean): { all(): Record<string, unknown>[] } };
      close(): void;
    };
    const handle = new Database(db.uri.slice('sqlite:///'.length), { readonly: true });
    try {
      // Exact 64-bit integers, as the node reads them.
      return handle.prepare(sql).safeIntegers(true).all();
    } finally {
      handle.close();
    }
  }
  const client = new Client({ connectionString: db.uri });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
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

describe.each(testEngines())('SQL table storage on %s', (engine) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(async () => {
    await closeSqlStorage();
    await db?.drop();
  });

  describe('createSqlTable', () => {
    it("should share one table per schema, named as Tiled names it, and give each dataset its own id", async () => {
      const a = await createSqlTable(db.uri, null, structure());
      const b = await createSqlTable(db.uri, null, structure());
      expect(a.table_name).toBe(defaultSqlTableName(structure()));
      expect(a.table_name).toMatch(/^table_[0-9a-f]{32}$/);
      expect(b).toEqual({ table_name: a.table_name, dataset_id: a.dataset_id + 1 });
      const named = await createSqlTable(db.uri, 'events', structure([{ name: 'x', type: 'float64' }], 1));
      expect(named).toEqual({ table_name: 'events', dataset_id: b.dataset_id + 1 });
    });

    it('should refuse table and column names that are not safe SQL identifiers', async () => {
      await expectStorageError(createSqlTable(db.uri, 'Events', structure()), StorageErrorCode.UnsafeIdentifier, /^Malformed SQL identifier "Events"$/);
      await expectStorageError(createSqlTable(db.uri, 'select', structure()), StorageErrorCode.UnsafeIdentifier, /Reserved SQL keywords/);
      await expectStorageError(createSqlTable(db.uri, `t${'x'.repeat(63)}`, structure()), StorageErrorCode.UnsafeIdentifier, /max bytes is 63 but identifier has 64 bytes/);
      await expectStorageError(createSqlTable(db.uri, 'x', structure([{ name: 'a"; DROP TABLE x; --', type: 'int32' }])), StorageErrorCode.UnsafeIdentifier, /forbidden character/);
      await expectStorageError(createSqlTable(db.uri, 'x', structure([{ name: '1a', type: 'int32' }])), StorageErrorCode.UnsafeIdentifier, /Malformed SQL identifier "1a"/);
      await expectStorageError(
        createSqlTable(db.uri, 'x', structure([{ name: 'A', type: 'int32' }, { name: 'a', type: 'int32' }])),
        StorageErrorCode.UnsafeIdentifier,
        /unique when converted to lower case/,
      );
      await expectStorageError(createSqlTable(db.uri, 'x', structure([{ name: '_dataset_id', type: 'int32' }])), StorageErrorCode.UnsafeIdentifier, /_dataset_id/);
    });
  });

  describe('appendSqlRows', () => {
    it('should append rows to a partition and read them back, in order, through the node and straight from the database', async () => {
      const s = structure();
      const mine = await createSqlTable(db.uri, null, s);
      const other = await createSqlTable(db.uri, null, s);
      await appendSqlRows(db.uri, mine, s, 0, arrowFile(FIRST));
      await appendSqlRows(db.uri, other, s, 0, arrowFile(SECOND));
      await appendSqlRows(db.uri, mine, s, 0, arrowFile(SECOND));
      await appendSqlRows(db.uri, mine, s, 1, arrowFile(SECOND));

      const node = sqlTableNode(db.uri, mine, s, { run: 1 });
      expect(node).toMatchObject({ family: 'table', columns: COLUMNS, npartitions: 2, metadata: { run: 1 } });
      expect(await node.readPartition(0)).toEqual({
        Flag: [true, false, true],
        i32: new Int32Array([1, -2, 3]),
        i64: new BigInt64Array([9007199254740993n, -7n, 0n]),
        f32: new Float32Array([0.5, 1.5, 2]),
        f64: new Float64Array([1e300, 0.25, -1]),
        text: ['a', "it's \"quoted\"; --", 'é'],
      });
      expect((await node.readPartition(1)).text).toEqual(['é']);
      expect((await sqlTableNode(db.uri, other, s, {}).readPartition(0)).text).toEqual(['é']);

      const raw = await rawRows(db, `SELECT * FROM "${mine.table_name}" WHERE "_dataset_id" = ${mine.dataset_id} AND "_partition_id" = 0`);
      expect(Object.keys(raw[0])).toEqual(['_dataset_id', '_partition_id', 'flag', 'i32', 'i64', 'f32', 'f64', 'text']);
      expect(raw.map((r) => r.text).sort()).toEqual(['a', 'é', "it's \"quoted\"; --"].sort());
      expect(raw.map((r) => String(r.i64)).sort()).toEqual(['-7', '0', '9007199254740993'].sort());
    });

    it('should keep nulls, reading null floats as NaN', async () => {
      const columns: TableColumn[] = [
        { name: 'x', type: 'float64' },
        { name: 's', type: 'string' },
      ];
      const s = structure(columns, 1);
      const p = await createSqlTable(db.uri, null, s);
      await appendSqlRows(db.uri, p, s, 0, arrowFile({ x: [1, null], s: [null, 'b'] }, columns));
      const part = await sqlTableNode(db.uri, p, s, {}).readPartition(0);
      expect(Array.from(part.x as Float64Array)).toEqual([1, NaN]);
      expect(part.s).toEqual([null, 'b']);
    });

    it('should refuse rows whose columns differ from the structure, or a partition out of range, and store nothing', async () => {
      const s = structure();
      const p = await createSqlTable(db.uri, null, s);
      const renamed = COLUMNS.map((c) => (c.name === 'text' ? { ...c, name: 'label' } : c));
      await expectStorageError(appendSqlRows(db.uri, p, s, 0, arrowFile({ ...FIRST, label: FIRST.text }, renamed)), StorageErrorCode.SchemaMismatch, /label: string/);
      await expectStorageError(appendSqlRows(db.uri, p, s, 2, arrowFile(FIRST)), StorageErrorCode.PartitionOutOfRange, /^Partition out of range$/);
      await expectStorageError(appendSqlRows(db.uri, p, s, 0, new Uint8Array([1, 2, 3])), StorageErrorCode.MalformedData, /not an Arrow IPC file/);
      expect((await sqlTableNode(db.uri, p, s, {}).readPartition(0)).text).toEqual([]);
    });
  });
});
