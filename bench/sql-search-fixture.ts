import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { SQL_MIGRATIONS } from '../src/catalog/writable/sql-search-migration';
import type { Engine } from '../src/catalog/writable/sql-search';
import { prng } from '../src/catalog/tree/demo-tree';

/*
 * A `nodes` table as the writable catalog defines it, in a temporary SQLite file or a PostgreSQL schema of
 * its own, for the SQL search specs and bench cases (which must not depend on the catalog's own migrations).
 */

export interface NodesDatabase {
  engine: Engine;
  dataSource: DataSource;
  drop(): Promise<void>;
}

const TABLE: Record<Engine, string> = {
  sqlite: `CREATE TABLE nodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    parent INTEGER NULL REFERENCES nodes (id),
    structure_family TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{}',
    specs TEXT NOT NULL DEFAULT '[]',
    access_blob TEXT NOT NULL DEFAULT '{}',
    time_created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    time_updated TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (parent, key)
  )`,
  postgres: `CREATE TABLE nodes (
    id SERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    parent INTEGER NULL REFERENCES nodes (id),
    structure_family TEXT NOT NULL,
    metadata JSONB NOT NULL DEFAULT '{}',
    specs JSONB NOT NULL DEFAULT '[]',
    access_blob JSONB NOT NULL DEFAULT '{}',
    time_created TIMESTAMPTZ NOT NULL DEFAULT now(),
    time_updated TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (parent, key)
  )`,
};

/** A fresh database holding an empty `nodes` table, with the search migration applied unless `migrate` is false. */
export async function createNodesDatabase(engine: Engine, postgresUri?: string, migrate = true): Promise<NodesDatabase> {
  let dataSource: DataSource;
  let cleanup: () => Promise<void>;
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tiled-search-'));
    dataSource = new DataSource({ type: 'better-sqlite3', database: join(dir, 'catalog.db'), enableWAL: true });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    if (!postgresUri) throw new Error('PostgreSQL needs a server URI');
    const schema = `tiled_search_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: postgresUri });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    dataSource = new DataSource({ type: 'postgres', url: postgresUri, extra: { options: `-c search_path=${schema}` } });
    cleanup = async () => {
      const client = new Client({ connectionString: postgresUri });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    };
  }
  await dataSource.initialize();
  await dataSource.query(TABLE[engine]);
  if (migrate) for (const migration of SQL_MIGRATIONS) for (const statement of migration.up[engine]) await dataSource.query(statement);
  return {
    engine,
    dataSource,
    drop: async () => {
      await dataSource.destroy();
      await cleanup();
    },
  };
}

export interface NewNode {
  key: string;
  family: string;
  metadata: Record<string, unknown>;
  specs?: { name: string; version: string | null }[];
  accessBlob?: Record<string, unknown>;
}

/** Inserts children of `parent` in order (so ids follow the array), in transactions of 1,000; returns their ids. */
export async function insertNodes(db: NodesDatabase, parent: number | null, nodes: readonly NewNode[]): Promise<number[]> {
  const ids: number[] = [];
  const n = (i: number): string => (db.engine === 'sqlite' ? '?' : `$${i}`);
  const row = (base: number): string => `(${[1, 2, 3, 4, 5, 6].map((i) => n(base + i)).join(', ')})`;
  for (let start = 0; start < nodes.length; start += 1000) {
    const batch = nodes.slice(start, start + 1000);
    await db.dataSource.transaction(async (manager) => {
      // One statement per 100 rows keeps PostgreSQL's parameter count well under its limit.
      for (let s = 0; s < batch.length; s += 100) {
        const slice = batch.slice(s, s + 100);
        const params = slice.flatMap((node) => [
          node.key,
          parent,
          node.family,
          JSON.stringify(node.metadata),
          JSON.stringify(node.specs ?? []),
          JSON.stringify(node.accessBlob ?? {}),
        ]);
        const values = slice.map((_, i) => row(i * 6)).join(', ');
        const rows = (await manager.query(
          `INSERT INTO nodes (key, parent, structure_family, metadata, specs, access_blob) VALUES ${values} RETURNING id`,
          params,
        )) as { id: number | string }[];
        ids.push(...rows.map((r) => Number(r.id)));
      }
    });
  }
  return ids;
}

/** A deterministic PRNG (the demo tree's mulberry32), so generated catalogs are the same on every run. */
export const seededRandom = prng;
