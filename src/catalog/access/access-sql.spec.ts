import { Client } from 'pg';
import { openSqlite } from '../../access/sqlite';
import { accessFilterSql } from './access-sql';
import { ChildFilter, passes } from './node-access';

/** The SQL form of a child filter selects exactly the rows the in-memory evaluator lets through, on both engines. */
const BLOBS: [string, Record<string, unknown> | null][] = [
  ['mine', { user: 'alice' }],
  ['theirs', { user: 'bob' }],
  ['tagged_b', { tags: ['data_B'] }],
  ['tagged_bc', { tags: ['data_C', 'data_B'] }],
  ['tagged_c', { tags: ['data_C'] }],
  ['empty', { tags: [] }],
  ['no_blob', null],
];

const FILTERS: ChildFilter[] = [
  { kind: 'all' },
  { kind: 'none' },
  { kind: 'queries', queries: [{ type: 'access_blob_filter', user_id: 'alice', tags: ['data_B'] }] },
  { kind: 'queries', queries: [{ type: 'access_blob_filter', user_id: null, tags: ['data_C'] }] },
  { kind: 'queries', queries: [{ type: 'access_blob_filter', user_id: null, tags: [] }] },
  { kind: 'queries', queries: [{ type: 'access_blob_filter', user_id: "o'brien", tags: ["it's"] }] },
];

const inMemory = (filter: ChildFilter): string[] => BLOBS.filter(([, blob]) => passes(filter, blob ?? undefined)).map(([key]) => key);

describe('accessFilterSql', () => {
  it('should select on SQLite what the in-memory filter passes', () => {
    const db = openSqlite(':memory:');
    db.exec('CREATE TABLE nodes (key TEXT, access_blob TEXT)');
    const insert = db.prepare('INSERT INTO nodes VALUES (?, ?)');
    for (const [key, blob] of BLOBS) insert.run(key, blob === null ? null : JSON.stringify(blob));
    for (const filter of FILTERS) {
      const { sql, params } = accessFilterSql('sqlite', 'access_blob', filter);
      const rows = db.prepare(`SELECT key FROM nodes WHERE ${sql} ORDER BY rowid`).all(...params) as { key: string }[];
      expect([filter, rows.map((row) => row.key)]).toEqual([filter, inMemory(filter)]);
    }
    db.close();
  });

  const postgres = process.env.TILED_TEST_POSTGRES_URI;
  (postgres ? it : it.skip)('should select on PostgreSQL what the in-memory filter passes', async () => {
    const client = new Client({ connectionString: postgres, connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      await client.query('CREATE TEMPORARY TABLE access_sql_nodes (n SERIAL, key TEXT, access_blob JSONB)');
      for (const [key, blob] of BLOBS) await client.query('INSERT INTO access_sql_nodes (key, access_blob) VALUES ($1, $2)', [key, blob === null ? null : JSON.stringify(blob)]);
      for (const filter of FILTERS) {
        const { sql, params } = accessFilterSql('postgres', 'access_blob', filter);
        const rows = await client.query(`SELECT key FROM access_sql_nodes WHERE ${sql} ORDER BY n`, params);
        expect([filter, rows.rows.map((row: { key: string }) => row.key)]).toEqual([filter, inMemory(filter)]);
      }
    } finally {
      await client.end();
    }
  });
});
