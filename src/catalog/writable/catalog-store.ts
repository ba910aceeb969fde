import type { DataSource, QueryRunner } from 'typeorm';
import type { Metadata, Spec } from '../tree/tree.types';

/** One row of `nodes`, decoded. `parent` NULL: a child of the catalog's (implicit) root. */
export interface NodeRow {
  id: number;
  key: string;
  parent: number | null;
  structureFamily: string;
  metadata: Metadata;
  specs: Spec[];
  accessBlob: Record<string, unknown>;
  timeCreated: Date;
  timeUpdated: Date;
}

export interface AssetRow {
  id: number;
  dataUri: string;
  isDirectory: boolean;
  size: number | null;
  parameter: string | null;
  num: number | null;
}

export type Management = 'external' | 'immutable' | 'locked' | 'writable';

export interface DataSourceRow {
  id: number;
  structureFamily: string;
  structure: Record<string, unknown> | null;
  mimetype: string | null;
  parameters: Record<string, unknown>;
  properties: Record<string, unknown>;
  management: Management;
  assets: AssetRow[];
}

export interface RevisionRow {
  revisionNumber: number;
  metadata: Metadata;
  specs: Spec[];
  accessBlob: Record<string, unknown>;
  timeUpdated: Date;
}

/** A unique key taken by a concurrent or earlier create: Tiled's `Collision` (409). */
export class KeyCollision extends Error {}

type Row = Record<string, unknown>;

function json<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

function toNode(row: Row): NodeRow {
  return {
    id: Number(row.id),
    key: String(row.key),
    parent: row.parent == null ? null : Number(row.parent),
    structureFamily: String(row.structure_family),
    metadata: json(row.metadata),
    specs: json(row.specs),
    accessBlob: json(row.access_blob),
    timeCreated: new Date(Number(row.time_created)),
    timeUpdated: new Date(Number(row.time_updated)),
  };
}

const NODE_COLUMNS = 'id, key, parent, structure_family, metadata, specs, access_blob, time_created, time_updated';

function isUniqueViolation(error: unknown): boolean {
  const driver = (error as { driverError?: { code?: string } }).driverError ?? (error as { code?: string });
  return driver?.code === '23505' || driver?.code === 'SQLITE_CONSTRAINT_UNIQUE' || driver?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** SQL written with PostgreSQL's `$1` placeholders, run on either engine. */
class Sql {
  constructor(
    private readonly runner: Pick<QueryRunner, 'query'> | DataSource,
    readonly postgres: boolean,
  ) {}

  async rows(text: string, params: unknown[] = []): Promise<Row[]> {
    const statement = this.postgres ? text : text.replace(/\$\d+/g, '?');
    const bound = params.map((p) => (p !== null && typeof p === 'object' && !(p instanceof Date) ? JSON.stringify(p) : typeof p === 'boolean' && !this.postgres ? Number(p) : p));
    const result: unknown = await this.runner.query(statement, bound);
    // TypeORM answers an UPDATE or DELETE on PostgreSQL with [rows, affected count].
    if (this.postgres && /^\s*(UPDATE|DELETE)\b/i.test(text) && Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
      return result[0] as Row[];
    }
    return Array.isArray(result) ? (result as Row[]) : [];
  }
}

/** A node's data sources with their assets, through `sql` (the pool, or a transaction). */
async function readDataSources(sql: Sql, nodeId: number): Promise<DataSourceRow[]> {
  return (await readDataSourcesOf(sql, [nodeId])).get(nodeId) ?? [];
}

/** Most ids one `IN (…)` list carries: well under SQLite's 32,766 bound parameters. */
const ID_CHUNK = 500;

/**
 * The data sources (with assets) of many nodes in two queries per chunk of ids, so a page of search
 * results costs a fixed number of queries however many array and table nodes it holds.
 */
async function readDataSourcesOf(sql: Sql, nodeIds: readonly number[]): Promise<Map<number, DataSourceRow[]>> {
  const out = new Map<number, DataSourceRow[]>();
  for (let start = 0; start < nodeIds.length; start += ID_CHUNK) {
    const chunk = nodeIds.slice(start, start + ID_CHUNK);
    const list = chunk.map((_, i) => `$${i + 1}`).join(', ');
    const sources = await sql.rows(`SELECT id, node_id, structure_family, structure, mimetype, parameters, properties, management FROM data_sources WHERE node_id IN (${list}) ORDER BY id`, [...chunk]);
    if (sources.length === 0) continue;
    const assetsBySource = new Map<number, Row[]>();
    for (let from = 0; from < sources.length; from += ID_CHUNK) {
      const ids = sources.slice(from, from + ID_CHUNK).map((s) => Number(s.id));
      const assets = await sql.rows(
        `SELECT x.data_source_id, a.id, a.data_uri, a.is_directory, a.size, x.parameter, x.num FROM assets a
           JOIN data_source_asset_association x ON x.asset_id = a.id WHERE x.data_source_id IN (${ids.map((_, i) => `$${i + 1}`).join(', ')}) ORDER BY a.id`,
        ids,
      );
      for (const a of assets) {
        const id = Number(a.data_source_id);
        let bucket = assetsBySource.get(id);
        if (!bucket) assetsBySource.set(id, (bucket = []));
        bucket.push(a);
      }
    }
    for (const s of sources) {
      const assets = assetsBySource.get(Number(s.id)) ?? [];
      const nodeId = Number(s.node_id);
      let list = out.get(nodeId);
      if (!list) out.set(nodeId, (list = []));
      list.push({
        id: Number(s.id),
        structureFamily: String(s.structure_family),
        structure: s.structure == null ? null : json(s.structure),
        mimetype: s.mimetype == null ? null : String(s.mimetype),
        parameters: json(s.parameters),
        properties: json(s.properties),
        management: String(s.management) as Management,
        assets: assets.map((a) => ({
          id: Number(a.id),
          dataUri: String(a.data_uri),
          isDirectory: a.is_directory === true || Number(a.is_directory) === 1,
          size: a.size == null ? null : Number(a.size),
          parameter: a.parameter == null ? null : String(a.parameter),
          num: a.num == null ? null : Number(a.num),
        })),
      });
    }
  }
  return out;
}

/** What a write transaction may do; obtained only through {@link CatalogStore.write}. */
export class CatalogTransaction {
  constructor(private readonly sql: Sql) {}

  async childExists(parent: number | null, key: string): Promise<boolean> {
    const rows = parent === null
      ? await this.sql.rows('SELECT 1 AS one FROM nodes WHERE parent IS NULL AND key = $1', [key])
      : await this.sql.rows('SELECT 1 AS one FROM nodes WHERE parent = $1 AND key = $2', [parent, key]);
    return rows.length > 0;
  }

  async insertNode(parent: number | null, key: string, family: string, metadata: Metadata, specs: readonly Spec[], accessBlob: Record<string, unknown>): Promise<NodeRow> {
    const now = Date.now();
    try {
      const [row] = await this.sql.rows(
        `INSERT INTO nodes (key, parent, structure_family, metadata, specs, access_blob, time_created, time_updated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${NODE_COLUMNS}`,
        [key, parent, family, metadata, specs, accessBlob, now, now],
      );
      return toNode(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new KeyCollision(key);
      throw error;
    }
  }

  async insertDataSource(nodeId: number, source: Omit<DataSourceRow, 'id' | 'assets'>): Promise<number> {
    const [row] = await this.sql.rows(
      `INSERT INTO data_sources (node_id, structure_family, structure, mimetype, parameters, properties, management)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [nodeId, source.structureFamily, source.structure, source.mimetype, source.parameters, source.properties, source.management],
    );
    return Number(row.id);
  }

  async insertAsset(dataSourceId: number, asset: { dataUri: string; isDirectory: boolean; parameter: string | null; num: number | null }): Promise<number> {
    // One asset per location: SQL storage is one database shared by many data sources.
    const [existing] = await this.sql.rows('SELECT id FROM assets WHERE data_uri = $1', [asset.dataUri]);
    const [row] = existing ? [existing] : await this.sql.rows('INSERT INTO assets (data_uri, is_directory, time_created) VALUES ($1, $2, $3) RETURNING id', [asset.dataUri, asset.isDirectory, Date.now()]);
    const assetId = Number(row.id);
    await this.sql.rows('INSERT INTO data_source_asset_association (data_source_id, asset_id, parameter, num) VALUES ($1, $2, $3, $4)', [dataSourceId, assetId, asset.parameter, asset.num]);
    return assetId;
  }

  /**
   * Tiled's PUT /data_source: replace a data source's description and add any assets it does not have yet
   * (assets are never removed this way). Returns false when the node has no data source of that id.
   */
  async replaceDataSource(nodeId: number, source: Omit<DataSourceRow, 'assets'>, assets: { dataUri: string; isDirectory: boolean; parameter: string | null; num: number | null }[]): Promise<boolean> {
    const rows = await this.sql.rows(
      'UPDATE data_sources SET structure_family = $1, structure = $2, mimetype = $3, parameters = $4, properties = $5, management = $6 WHERE id = $7 AND node_id = $8 RETURNING id',
      [source.structureFamily, source.structure, source.mimetype, source.parameters, source.properties, source.management, source.id, nodeId],
    );
    if (rows.length === 0) return false;
    for (const asset of assets) {
      const [linked] = await this.sql.rows(
        'SELECT 1 AS one FROM data_source_asset_association x JOIN assets a ON a.id = x.asset_id WHERE x.data_source_id = $1 AND a.data_uri = $2',
        [source.id, asset.dataUri],
      );
      if (!linked) await this.insertAsset(source.id, asset);
    }
    await this.touch(nodeId);
    return true;
  }

  async updateStructure(dataSourceId: number, structure: Record<string, unknown>): Promise<void> {
    await this.sql.rows('UPDATE data_sources SET structure = $1 WHERE id = $2', [structure, dataSourceId]);
  }

  /** The node's data sources as this transaction sees them (read after {@link lockNode}: current, and stable until commit). */
  async dataSources(nodeId: number): Promise<DataSourceRow[]> {
    return readDataSources(this.sql, nodeId);
  }

  /** The node's current row, locked until the transaction ends (SQLite's IMMEDIATE transaction already holds the write lock). */
  async lockNode(nodeId: number): Promise<NodeRow | undefined> {
    const rows = await this.sql.rows(`SELECT ${NODE_COLUMNS} FROM nodes WHERE id = $1${this.sql.postgres ? ' FOR UPDATE' : ''}`, [nodeId]);
    return rows.length ? toNode(rows[0]) : undefined;
  }

  async touch(nodeId: number): Promise<void> {
    await this.sql.rows('UPDATE nodes SET time_updated = $1 WHERE id = $2', [Date.now(), nodeId]);
  }

  /** Replace metadata, specs and access blob, first saving the current ones as the next revision unless told not to. */
  async replaceMetadata(nodeId: number, values: { metadata: Metadata; specs: readonly Spec[]; accessBlob: Record<string, unknown> }, dropRevision: boolean): Promise<void> {
    if (!dropRevision) {
      const [current] = await this.sql.rows(`SELECT metadata, specs, access_blob, time_updated FROM nodes WHERE id = $1${this.sql.postgres ? ' FOR UPDATE' : ''}`, [nodeId]);
      const [max] = await this.sql.rows('SELECT MAX(revision_number) AS n FROM revisions WHERE node_id = $1', [nodeId]);
      await this.sql.rows(
        'INSERT INTO revisions (node_id, revision_number, metadata, specs, access_blob, time_updated) VALUES ($1, $2, $3, $4, $5, $6)',
        [nodeId, Number(max?.n ?? 0) + 1, json(current.metadata), json(current.specs), json(current.access_blob), Number(current.time_updated)],
      );
    }
    await this.sql.rows('UPDATE nodes SET metadata = $1, specs = $2, access_blob = $3, time_updated = $4 WHERE id = $5', [values.metadata, values.specs, values.accessBlob, Date.now(), nodeId]);
  }

  async deleteRevision(nodeId: number, number: number): Promise<boolean> {
    const rows = await this.sql.rows('DELETE FROM revisions WHERE node_id = $1 AND revision_number = $2 RETURNING id', [nodeId, number]);
    return rows.length > 0;
  }

  /** The node and every descendant, the node first. */
  async subtree(nodeId: number): Promise<number[]> {
    const rows = await this.sql.rows(
      'WITH RECURSIVE sub(id) AS (SELECT id FROM nodes WHERE id = $1 UNION ALL SELECT n.id FROM nodes n JOIN sub ON n.parent = sub.id) SELECT id FROM sub',
      [nodeId],
    );
    return rows.map((r) => Number(r.id));
  }

  /** Each child's key, family and (for a table) column names, in creation order: what spec validators look at. */
  async childSummaries(nodeId: number): Promise<{ key: string; family: string; columns: string[] }[]> {
    const rows = await this.sql.rows(
      `SELECT n.key, n.structure_family, ds.structure FROM nodes n LEFT JOIN data_sources ds ON ds.node_id = n.id WHERE n.parent = $1 ORDER BY n.id, ds.id`,
      [nodeId],
    );
    const out = new Map<string, { key: string; family: string; columns: string[] }>();
    for (const r of rows) {
      const key = String(r.key);
      const structure = r.structure == null ? null : json<{ columns?: unknown }>(r.structure);
      const columns = String(r.structure_family) === 'table' && Array.isArray(structure?.columns) ? structure.columns.map(String) : [];
      const known = out.get(key);
      if (known) known.columns.push(...columns);
      else out.set(key, { key, family: String(r.structure_family), columns });
    }
    return [...out.values()];
  }

  async hasChildren(nodeId: number): Promise<boolean> {
    return (await this.sql.rows('SELECT 1 AS one FROM nodes WHERE parent = $1 LIMIT 1', [nodeId])).length > 0;
  }

  async hasInternalData(nodeIds: readonly number[]): Promise<boolean> {
    if (nodeIds.length === 0) return false;
    const list = nodeIds.map((_, i) => `$${i + 1}`).join(', ');
    return (await this.sql.rows(`SELECT 1 AS one FROM data_sources WHERE management <> 'external' AND node_id IN (${list}) LIMIT 1`, [...nodeIds])).length > 0;
  }

  /**
   * Delete the nodes (with their data sources and revisions, by cascade) and every asset no remaining data
   * source uses. Returns the internally managed assets removed, whose files the caller deletes after commit.
   */
  async deleteNodes(nodeIds: readonly number[]): Promise<{ dataUri: string; isDirectory: boolean }[]> {
    if (nodeIds.length === 0) return [];
    const removed: { dataUri: string; isDirectory: boolean }[] = [];
    for (let start = 0; start < nodeIds.length; start += 500) {
      const chunk = nodeIds.slice(start, start + 500);
      const list = chunk.map((_, i) => `$${i + 1}`).join(', ');
      const assets = await this.sql.rows(
        `SELECT DISTINCT a.id, a.data_uri, a.is_directory, ds.management FROM assets a
           JOIN data_source_asset_association x ON x.asset_id = a.id
           JOIN data_sources ds ON ds.id = x.data_source_id
          WHERE ds.node_id IN (${list})`,
        [...chunk],
      );
      // Children first, so no row is left pointing at a deleted parent on an engine without cascades.
      await this.sql.rows(`DELETE FROM nodes WHERE id IN (${list})`, [...chunk]);
      for (const asset of assets) {
        const still = await this.sql.rows('SELECT 1 AS one FROM data_source_asset_association WHERE asset_id = $1 LIMIT 1', [asset.id]);
        if (still.length) continue;
        await this.sql.rows('DELETE FROM assets WHERE id = $1', [asset.id]);
        if (asset.management !== 'external') removed.push({ dataUri: String(asset.data_uri), isDirectory: Boolean(Number(asset.is_directory) || asset.is_directory === true) });
      }
    }
    return removed;
  }
}

/**
 * Every query of the writable catalog. Reads run on the pool; writes run in one transaction each, through
 * {@link write}. On SQLite a process has one connection, so writes are also serialised in-process, and
 * begin IMMEDIATE: a transaction that would read and then write takes the write lock up front, and waits
 * (busy timeout) for another process's writer instead of failing with "database is locked".
 */
export class CatalogStore {
  readonly postgres: boolean;
  private readonly sql: Sql;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dataSource: DataSource) {
    this.postgres = dataSource.options.type === 'postgres';
    this.sql = new Sql(dataSource, this.postgres);
  }

  async child(parent: number | null, key: string): Promise<NodeRow | undefined> {
    const rows = parent === null
      ? await this.sql.rows(`SELECT ${NODE_COLUMNS} FROM nodes WHERE parent IS NULL AND key = $1`, [key])
      : await this.sql.rows(`SELECT ${NODE_COLUMNS} FROM nodes WHERE parent = $1 AND key = $2`, [parent, key]);
    return rows.length ? toNode(rows[0]) : undefined;
  }

  /** Children in creation order (Tiled's default sort of a catalog). */
  async children(parent: number | null): Promise<NodeRow[]> {
    const rows = parent === null
      ? await this.sql.rows(`SELECT ${NODE_COLUMNS} FROM nodes WHERE parent IS NULL ORDER BY id`)
      : await this.sql.rows(`SELECT ${NODE_COLUMNS} FROM nodes WHERE parent = $1 ORDER BY id`, [parent]);
    return rows.map(toNode);
  }

  async node(id: number): Promise<NodeRow | undefined> {
    const rows = await this.sql.rows(`SELECT ${NODE_COLUMNS} FROM nodes WHERE id = $1`, [id]);
    return rows.length ? toNode(rows[0]) : undefined;
  }

  async dataSources(nodeId: number): Promise<DataSourceRow[]> {
    return readDataSources(this.sql, nodeId);
  }

  /** The data sources of many nodes at once (nodes without any are absent from the map). */
  async dataSourcesOf(nodeIds: readonly number[]): Promise<Map<number, DataSourceRow[]>> {
    return readDataSourcesOf(this.sql, nodeIds);
  }

  /** How many children each of these containers has (containers without any are absent). */
  async childCounts(parentIds: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (let start = 0; start < parentIds.length; start += ID_CHUNK) {
      const chunk = parentIds.slice(start, start + ID_CHUNK);
      const rows = await this.sql.rows(`SELECT parent, COUNT(*) AS n FROM nodes WHERE parent IN (${chunk.map((_, i) => `$${i + 1}`).join(', ')}) GROUP BY parent`, [...chunk]);
      for (const r of rows) out.set(Number(r.parent), Number(r.n));
    }
    return out;
  }

  /** The keys of a container's children in creation order, without reading their rows. */
  async childKeys(parent: number | null): Promise<string[]> {
    const rows = parent === null
      ? await this.sql.rows('SELECT key FROM nodes WHERE parent IS NULL ORDER BY id')
      : await this.sql.rows('SELECT key FROM nodes WHERE parent = $1 ORDER BY id', [parent]);
    return rows.map((r) => String(r.key));
  }

  async revisions(nodeId: number, offset: number, limit: number): Promise<{ revisions: RevisionRow[]; count: number }> {
    const [count] = await this.sql.rows('SELECT COUNT(*) AS n FROM revisions WHERE node_id = $1', [nodeId]);
    const rows = await this.sql.rows(
      'SELECT revision_number, metadata, specs, access_blob, time_updated FROM revisions WHERE node_id = $1 ORDER BY revision_number LIMIT $2 OFFSET $3',
      [nodeId, limit, offset],
    );
    return {
      count: Number(count.n),
      revisions: rows.map((r) => ({
        revisionNumber: Number(r.revision_number),
        metadata: json(r.metadata),
        specs: json(r.specs),
        accessBlob: json(r.access_blob),
        timeUpdated: new Date(Number(r.time_updated)),
      })),
    };
  }

  /** Run `work` in one transaction: everything it wrote is committed together, or nothing is. */
  write<T>(work: (tx: CatalogTransaction) => Promise<T>): Promise<T> {
    if (this.postgres) return this.transaction(work);
    const run = this.queue.then(() => this.transaction(work));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async transaction<T>(work: (tx: CatalogTransaction) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      if (this.postgres) await runner.startTransaction();
      else await runner.query('BEGIN IMMEDIATE');
      try {
        const result = await work(new CatalogTransaction(new Sql(runner, this.postgres)));
        if (this.postgres) await runner.commitTransaction();
        else await runner.query('COMMIT');
        return result;
      } catch (error) {
        if (this.postgres) await runner.rollbackTransaction().catch(() => undefined);
        else await runner.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    } finally {
      await runner.release();
    }
  }
}
