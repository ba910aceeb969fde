import { createHash } from 'node:crypto';
import { lazyRequire } from '../../common/lazy-require';
import { parseDatabaseUri, ParsedDatabaseUri } from '../../database/database-uri';
import type { ColumnType, ColumnValues, Metadata, Spec, TableColumn, TableNode, TablePartition } from '../tree/tree.types';
import { StorageError, StorageErrorCode } from './storage.errors';
import { columnValues, readArrowBody, tableLayout, TableLayout, TableStructure } from './table-structure';

/** A table's data-source parameters, as Tiled 0.2.16 stores them: which SQL table, and which rows of it. */
export interface SqlTableParameters {
  table_name: string;
  dataset_id: number;
}

/*
 * The layout is Tiled 0.2.16's (tiled/adapters/sql.py): tables with the same Arrow schema share one SQL table
 * named `table_<md5 of the schema>`; each dataset's rows carry its `_dataset_id` (from a counter in the same
 * database) and `_partition_id`; column names are lower-cased.
 */

const TABLE_NAME = /^[a-z][a-z0-9_]*$/;
const COLUMN_NAME = /^[a-zA-Z_]/;
/** Tiled's FORBIDDEN_CHARACTERS: anything that could end an identifier or start a comment or expression. */
const FORBIDDEN = /'|"|`|;|--|\/\*|\*\/|\\|%|\(|\)|=|\+/;
/** PostgreSQL's identifier limit, the smallest of the engines Tiled supports. */
const MAX_IDENTIFIER_BYTES = 63;
/** SQLAlchemy's RESERVED_WORDS, which Tiled refuses as table names. */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate column constraint create cross ' +
    'current_date current_role current_time current_timestamp current_user default deferrable desc distinct do else end except false for ' +
    'foreign freeze from full grant group having ilike in initially inner intersect into is isnull join leading left like limit localtime ' +
    'localtimestamp natural new not notnull null off offset old on only or order outer overlaps placing primary references right select ' +
    'session_user set similar some symmetric table then to trailing true union unique user using verbose when where'
  ).split(' '),
);
const INTERNAL_COLUMNS = ['_dataset_id', '_partition_id'];

const SQL_TYPE: Readonly<Record<'sqlite' | 'postgres', Readonly<Record<ColumnType, string>>>> = {
  sqlite: { bool: 'INTEGER', int32: 'INTEGER', int64: 'INTEGER', float32: 'REAL', float64: 'REAL', string: 'TEXT' },
  postgres: { bool: 'BOOLEAN', int32: 'INTEGER', int64: 'BIGINT', float32: 'REAL', float64: 'DOUBLE PRECISION', string: 'TEXT' },
};

function unsafe(message: string): never {
  throw new StorageError(StorageErrorCode.UnsafeIdentifier, message);
}

function checkIdentifier(identifier: string, pattern: RegExp, allowReserved: boolean): void {
  const bytes = Buffer.byteLength(identifier);
  if (bytes > MAX_IDENTIFIER_BYTES) unsafe(`Invalid SQL identifier "${identifier}": max bytes is ${MAX_IDENTIFIER_BYTES} but identifier has ${bytes} bytes`);
  if (!allowReserved && RESERVED.has(identifier.toLowerCase())) unsafe(`Reserved SQL keywords are not allowed in identifiers, "${identifier}"`);
  if (!pattern.test(identifier)) unsafe(`Malformed SQL identifier "${identifier}"`);
  const forbidden = FORBIDDEN.exec(identifier);
  if (forbidden) unsafe(`Invalid SQL identifier "${identifier}" contains forbidden character(s): ${forbidden[0]}`);
}

/** Every identifier is also quoted, so even a name the checks above let through cannot end the quote. */
function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** The SQL column of each table column (lower-cased, as Tiled stores them), after Tiled's identifier checks. */
function sqlColumns(layout: TableLayout): string[] {
  const names = layout.columns.map((c) => {
    checkIdentifier(c.name, COLUMN_NAME, true);
    return c.name.toLowerCase();
  });
  if (new Set([...names, ...INTERNAL_COLUMNS]).size !== names.length + INTERNAL_COLUMNS.length) {
    unsafe('Column names must be unique when converted to lower case, and not _dataset_id or _partition_id');
  }
  return names;
}

/** Tiled's default table name: one table per Arrow schema. */
export function defaultSqlTableName(structure: TableStructure): string {
  return `table_${createHash('md5').update(structure.arrow_schema).digest('hex')}`;
}

/** better-sqlite3 ships no types; the calls used here. */
interface SqliteStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  raw(on: boolean): SqliteStatement;
  safeIntegers(on: boolean): SqliteStatement;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(sql: string): unknown;
  transaction(fn: () => void): { immediate(): void };
  close(): void;
}

/** One engine's way of running the few statements storage needs. */
interface SqlEngine {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * In one transaction: runs the DDL statements, reads the table's columns (name and declared type, in
   * order) and hands them to `check`, which throws to roll back; then returns the next dataset id.
   */
  createTable(table: string, statements: string[], check: (columns: { name: string; type: string }[]) => void): Promise<number>;
  insert(table: string, columns: readonly string[], types: readonly ColumnType[], values: unknown[][], datasetId: number, partition: number): Promise<void>;
  /** Rows of one partition, as one list per column, in insertion order. */
  select(table: string, columns: readonly string[], datasetId: number, partition: number): Promise<unknown[][]>;
  close(): Promise<void>;
}

/**
 * better-sqlite3 is synchronous: an append holds the event loop for its rows (the request body limit bounds
 * them). Write transactions are IMMEDIATE, so a second process waits for the lock (busy timeout) instead of
 * failing when a read transaction cannot be upgraded.
 */
function sqliteEngine(file: string): SqlEngine {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- better-sqlite3 is CommonJS without types
  const Database = require('better-sqlite3') as new (file: string, options?: { timeout?: number }) => SqliteDatabase;
  // A busy timeout, as the catalog database has: another process may hold the write lock for a moment.
  const db = new Database(file, { timeout: 5000 });
  if (file !== ':memory:') db.pragma('journal_mode = WAL');
  return {
    kind: 'sqlite',
    async createTable(table, statements, check) {
      let id = 0;
      db.transaction(() => {
        for (const sql of statements) db.exec(sql);
        const info = db.prepare('SELECT name, type FROM pragma_table_info(?) ORDER BY cid').all(table) as { name: string; type: string }[];
        check(info);
        db.exec('CREATE TABLE IF NOT EXISTS _dataset_id_counter (value INTEGER NOT NULL)');
        db.exec('INSERT INTO _dataset_id_counter (value) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM _dataset_id_counter)');
        id = Number((db.prepare('UPDATE _dataset_id_counter SET value = value + 1 RETURNING value').get() as { value: number }).value);
      }).immediate();
      return id;
    },
    async insert(table, columns, types, values, datasetId, partition) {
      const names = [...INTERNAL_COLUMNS, ...columns].map(quote).join(', ');
      const statement = db.prepare(`INSERT INTO ${quote(table)} (${names}) VALUES (${[...INTERNAL_COLUMNS, ...columns].map(() => '?').join(', ')})`);
      const rows = values[0]?.length ?? 0;
      const cell = (v: unknown, type: ColumnType) => (v === null || v === undefined ? null : type === 'bool' ? (v ? 1 : 0) : typeof v === 'number' && Number.isNaN(v) ? null : v);
      db.transaction(() => {
        const row = new Array<unknown>(columns.length + 2);
        row[0] = datasetId;
        row[1] = partition;
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < columns.length; c++) row[c + 2] = cell(values[c][r], types[c]);
          statement.run(...row);
        }
      }).immediate();
    },
    async select(table, columns, datasetId, partition) {
      // rowid is SQLite's insertion order; the table has no ordering column of its own (as in Tiled).
      const rows = db
        .prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)} WHERE "_dataset_id" = ? AND "_partition_id" = ? ORDER BY rowid`)
        .raw(true)
        .safeIntegers(true)
        .all(datasetId, partition) as unknown[][];
      return columns.map((_, c) => rows.map((row) => row[c]));
    },
    async close() {
      db.close();
    },
  };
}

const PG_ARRAY_TYPE: Readonly<Record<ColumnType, string>> = { bool: 'boolean[]', int32: 'integer[]', int64: 'bigint[]', float32: 'real[]', float64: 'double precision[]', string: 'text[]' };

/** Only catalogs on PostgreSQL use its driver. */
const pg = lazyRequire<typeof import('pg')>('pg');

function postgresEngine(url: string): SqlEngine {
  const pool = new (pg().Pool)({ connectionString: url, max: 4 });
  // An idle client's error (the server restarting) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const transaction = async <T>(work: (query: (sql: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work((sql, params) => client.query(sql, params));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  };
  return {
    kind: 'postgres',
    createTable: (table, statements, check) =>
      transaction(async (query) => {
        // Two servers creating the first table of a schema at once would race on CREATE ... IF NOT EXISTS.
        await query('SELECT pg_advisory_xact_lock(hashtext($1))', ['tiled_sql_storage']);
        for (const sql of statements) await query(sql);
        const info = await query(
          'SELECT column_name AS name, upper(data_type) AS type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
          [table],
        );
        check(info.rows as { name: string; type: string }[]);
        await query('CREATE SEQUENCE IF NOT EXISTS _dataset_id_counter');
        const { rows } = await query("SELECT nextval('_dataset_id_counter') AS id");
        return Number(rows[0].id);
      }),
    insert: (table, columns, types, values, datasetId, partition) =>
      transaction(async (query) => {
        const rows = values[0]?.length ?? 0;
        // One statement whatever the row count: each column travels as one array parameter.
        const params = [
          new Array<number>(rows).fill(datasetId),
          new Array<number>(rows).fill(partition),
          ...values.map((list, c) => (types[c] === 'int64' ? list.map((v) => (v === null || v === undefined ? null : String(v))) : list)),
        ];
        const arrays = ['integer[]', 'smallint[]', ...types.map((t) => PG_ARRAY_TYPE[t])].map((t, i) => `$${i + 1}::${t}`);
        await query(`INSERT INTO ${quote(table)} (${[...INTERNAL_COLUMNS, ...columns].map(quote).join(', ')}) SELECT * FROM unnest(${arrays.join(', ')})`, params);
      }),
    async select(table, columns, datasetId, partition) {
      // Without an ordering column, rows come back in the order the heap holds them: insertion order for an append-only table, as in Tiled.
      const result = await pool.query({
        text: `SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)} WHERE "_dataset_id" = $1 AND "_partition_id" = $2`,
        values: [datasetId, partition],
        rowMode: 'array',
      });
      const rows = result.rows as unknown as unknown[][];
      return columns.map((_, c) => rows.map((row) => row[c]));
    },
    close: () => pool.end(),
  };
}

/** One engine per storage URI, shared by every table in it (a pool for PostgreSQL). */
const engines = new Map<string, SqlEngine>();

function engineFor(uri: string): SqlEngine {
  let engine = engines.get(uri);
  if (!engine) {
    const parsed: ParsedDatabaseUri = parseDatabaseUri(uri);
    engine = parsed.engine === 'sqlite' ? sqliteEngine(parsed.file) : postgresEngine(parsed.url);
    engines.set(uri, engine);
  }
  return engine;
}

/** The storage URI without user name or password, as Tiled records it in the table's asset (credentials stay in the config). */
export function sqlStorageAssetUri(uri: string): string {
  return uri.replace(/^([a-z0-9+]+:\/\/)[^/@]*@/i, '$1');
}

/** Closes every connection SQL storage opened (server shutdown, tests). */
export async function closeSqlStorage(): Promise<void> {
  const all = [...engines.values()];
  engines.clear();
  await Promise.all(all.map((e) => e.close()));
}

/**
 * Prepares SQL storage for a new table (Tiled's SQLAdapter.init_storage): creates the shared table for its
 * schema if needed, with an index on (dataset, partition), and draws the dataset's id. `tableName` null
 * means Tiled's default name. The result is the data source's `parameters`.
 */
export async function createSqlTable(uri: string, tableName: string | null, structure: TableStructure): Promise<SqlTableParameters> {
  const layout = sqlLayout(structure);
  const table = tableName ?? defaultSqlTableName(structure);
  checkIdentifier(table, TABLE_NAME, false);
  const columns = sqlColumns(layout);
  const engine = engineFor(uri);
  const types = SQL_TYPE[engine.kind];
  const definitions = [
    `"_dataset_id" INTEGER NULL`,
    `"_partition_id" ${engine.kind === 'sqlite' ? 'INTEGER' : 'SMALLINT'} NULL`,
    ...layout.columns.map((c, i) => `${quote(columns[i])} ${types[c.type]} NULL`),
  ];
  // Tiled names the index dataset_and_partition_index for every table, but index names are unique per
  // database, so only its first table got one; here each table has its own.
  const index = quote(`ix_${createHash('md5').update(table).digest('hex').slice(0, 24)}_dataset_partition`);
  const expected = [
    { name: '_dataset_id', type: 'INTEGER' },
    { name: '_partition_id', type: engine.kind === 'sqlite' ? 'INTEGER' : 'SMALLINT' },
    ...layout.columns.map((c, i) => ({ name: columns[i], type: types[c.type] })),
  ];
  const datasetId = await engine.createTable(
    table,
    [`CREATE TABLE IF NOT EXISTS ${quote(table)} (${definitions.join(', ')})`, `CREATE INDEX IF NOT EXISTS ${index} ON ${quote(table)} ("_dataset_id", "_partition_id")`],
    (existing) => {
      // A table of that name made earlier for other columns: appends would fail later, so refuse now.
      const describe = (list: { name: string; type: string }[]) => list.map((c) => `${c.name} ${c.type}`).join(', ');
      if (existing.length !== expected.length || existing.some((c, i) => c.name !== expected[i].name || c.type.toUpperCase() !== expected[i].type)) {
        throw new StorageError(StorageErrorCode.SchemaMismatch, `SQL table "${table}" exists with other columns (${describe(existing)}) than this table needs (${describe(expected)})`);
      }
    },
  );
  return { table_name: table, dataset_id: datasetId };
}

/** `_partition_id` is a 16-bit integer, as in Tiled. */
const MAX_SQL_PARTITIONS = 32767;

function sqlLayout(structure: TableStructure): TableLayout {
  const layout = tableLayout(structure);
  if (layout.npartitions > MAX_SQL_PARTITIONS) {
    throw new StorageError(StorageErrorCode.UnsupportedStructure, `A table stored in SQL has at most ${MAX_SQL_PARTITIONS} partitions`);
  }
  return layout;
}

function checkPartition(layout: TableLayout, partition: number): void {
  if (!Number.isSafeInteger(partition) || partition < 0 || partition >= layout.npartitions) {
    throw new StorageError(StorageErrorCode.PartitionOutOfRange, 'Partition out of range');
  }
}

function checkParameters(parameters: SqlTableParameters): void {
  if (!parameters || typeof parameters.table_name !== 'string' || !Number.isSafeInteger(parameters.dataset_id)) {
    throw new Error('SQL table parameters need table_name and an integer dataset_id');
  }
  checkIdentifier(parameters.table_name, TABLE_NAME, false);
}

/**
 * Appends the rows of an Arrow IPC body to one partition (Tiled's PATCH /table/partition), in one
 * transaction: all rows or none.
 */
export async function appendSqlRows(uri: string, parameters: SqlTableParameters, structure: TableStructure, partition: number, arrowIpcFile: Uint8Array): Promise<void> {
  checkParameters(parameters);
  const layout = sqlLayout(structure);
  checkPartition(layout, partition);
  const columns = sqlColumns(layout);
  const table = readArrowBody(layout, arrowIpcFile);
  if (table.numRows === 0) return;
  const values = layout.columns.map((c, i) => Array.from(columnValues(table, i, c.type) as ArrayLike<unknown>));
  await engineFor(uri).insert(
    parameters.table_name,
    columns,
    layout.columns.map((c) => c.type),
    values,
    parameters.dataset_id,
    partition,
  );
}

function toColumnValues(column: TableColumn, values: unknown[]): ColumnValues {
  const hasNull = values.some((v) => v === null);
  switch (column.type) {
    case 'float64':
      return Float64Array.from(values, (v) => (v === null ? NaN : Number(v)));
    case 'float32':
      return Float32Array.from(values, (v) => (v === null ? NaN : Number(v)));
    case 'int32':
      return hasNull ? (values.map((v) => (v === null ? null : Number(v))) as number[]) : Int32Array.from(values, Number);
    case 'int64':
      // SQLite gives BigInt (safeIntegers), pg gives a string for BIGINT.
      return hasNull ? (values.map((v) => (v === null ? null : Number(v))) as number[]) : BigInt64Array.from(values, (v) => BigInt(v as bigint | string));
    case 'bool':
      // SQLite stores 0/1 (a BigInt here), PostgreSQL a BOOLEAN.
      return values.map((v) => (v === null ? null : typeof v === 'boolean' ? v : Number(v) !== 0)) as boolean[];
    case 'string':
      return values as string[];
  }
}

/** The read side: a TableNode over one dataset's rows in SQL storage. */
export function sqlTableNode(uri: string, parameters: SqlTableParameters, structure: TableStructure, metadata: Metadata, specs: readonly Spec[] = []): TableNode {
  checkParameters(parameters);
  const layout = sqlLayout(structure);
  const columns = sqlColumns(layout);
  return {
    family: 'table',
    metadata,
    specs,
    columns: layout.columns,
    npartitions: layout.npartitions,
    async readPartition(index: number): Promise<TablePartition> {
      checkPartition(layout, index);
      const lists = await engineFor(uri).select(parameters.table_name, columns, parameters.dataset_id, index);
      const partition: TablePartition = Object.create(null) as TablePartition;
      layout.columns.forEach((column, c) => (partition[column.name] = toColumnValues(column, lists[c])));
      return partition;
    },
  };
}
