import type { Table } from 'apache-arrow';
import { arrow } from './write';
import { Context } from './context';
import { TiledClientError } from './errors';
import { Query, queryParams } from './queries';
import { ARROW_FILE, arrowFileOf, arrowSchemaOf, blockBytes, blockIndices, bytesOf, checkChunks, dataTypeOf, MERGE_PATCH, OCTET_STREAM, wholeChunks, WritableArray } from './write';

/** Metadata and specs of a node being created or replaced. */
export interface NodeOptions {
  /** The new node's key; omitted: the server makes one (a UUID). */
  key?: string;
  metadata?: Record<string, unknown>;
  specs?: { name: string; version?: string | null }[];
}

export interface WriteArrayOptions extends NodeOptions {
  shape: number[];
  /** Per dimension, chunk lengths; more than one chunk: the array is uploaded block by block. Default: one chunk. */
  chunks?: number[][];
  dims?: string[];
}

export interface WriteSparseOptions extends NodeOptions {
  shape: number[];
  dims?: string[];
}

/** Values a sparse array may hold: those a table column carries (the server's sparse data types). */
export type SparseValues = Float64Array | Float32Array | Int32Array | BigInt64Array;

/** The stored elements of a sparse (COO) array: one coordinate list per dimension, and the values. */
export interface SparseData {
  coords: number[][];
  data: SparseValues;
  shape: number[];
}

export interface DeleteOptions {
  /** Delete a container with everything under it. */
  recursive?: boolean;
  /** false: also delete data the server wrote (Tiled's default, true, refuses to). */
  externalOnly?: boolean;
}

export interface Resource {
  id: string;
  attributes: {
    ancestors: string[];
    structure_family: string;
    specs: { name: string; version: string | null }[] | null;
    metadata: Record<string, unknown> | null;
    structure: unknown;
    sorting: { key: string; direction: 1 | -1 }[] | null;
    [key: string]: unknown;
  };
  links: Record<string, string> | null;
  meta: unknown;
}

interface SearchPage {
  data: Resource[];
  links: { self: string; first?: string; next: string | null } | null;
  meta: { count?: number } | null;
}

export interface DataType {
  endianness: 'big' | 'little' | 'not_applicable';
  kind: string;
  itemsize: number;
  dt_units?: string | null;
}

export interface ArrayStructure {
  data_type: DataType | { itemsize: number; fields: unknown[] };
  chunks: number[][];
  shape: number[];
  dims: string[] | null;
  resizable: boolean;
}

export interface TableStructure {
  arrow_schema: string;
  npartitions: number;
  columns: string[];
  resizable: boolean;
}

export type TypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

export interface ArrayData {
  /** Elements in C order; 64-bit integers and datetimes come as BigInt arrays. */
  data: TypedArray;
  shape: number[];
  /** numpy-style dtype string, e.g. `<f8`. */
  dtype: string;
}

function nodeUrl(context: Context, route: string, path: readonly string[]): string {
  return `${context.apiUri}${route}/${path.map(encodeURIComponent).join('/')}`;
}

/** What every node shares: where it is, its metadata, its specs. */
export class BaseNode {
  constructor(
    readonly context: Context,
    readonly path: readonly string[],
    readonly item: Resource,
  ) {}

  get key(): string {
    return this.item.id;
  }

  get structureFamily(): string {
    return this.item.attributes.structure_family;
  }

  get metadata(): Record<string, unknown> {
    return this.item.attributes.metadata ?? {};
  }

  get specs(): { name: string; version: string | null }[] {
    return this.item.attributes.specs ?? [];
  }

  get structure(): unknown {
    return this.item.attributes.structure;
  }

  get uri(): string {
    return this.item.links?.self ?? nodeUrl(this.context, 'metadata', this.path);
  }

  /** Fetch the node again (metadata may have changed on the server). */
  async refresh(): Promise<Node> {
    return fetchNode(this.context, this.path);
  }

  /** Merge `metadata` into the node's (RFC 7386: a `null` value removes a key); `specs`, if given, replace its specs. Keeps a revision. */
  async updateMetadata(metadata: Record<string, unknown>, options: { specs?: NodeOptions['specs'] } = {}): Promise<Node> {
    await this.context.fetchDocument('PATCH', nodeUrl(this.context, 'metadata', this.path), {
      json: { 'content-type': MERGE_PATCH, metadata, specs: options.specs ?? null },
      accept: 'application/json',
    });
    return this.refresh();
  }

  /** Replace the node's metadata (and specs, if given). Keeps a revision. */
  async replaceMetadata(metadata: Record<string, unknown>, options: { specs?: NodeOptions['specs'] } = {}): Promise<Node> {
    await this.context.fetchDocument('PUT', nodeUrl(this.context, 'metadata', this.path), { json: { metadata, specs: options.specs ?? null }, accept: 'application/json' });
    return this.refresh();
  }

  /** Delete this node (see {@link DeleteOptions} for containers and server-written data). */
  async delete(options: DeleteOptions = {}): Promise<void> {
    await this.context.fetchDocument('DELETE', nodeUrl(this.context, 'metadata', this.path), {
      query: { recursive: String(options.recursive ?? false), external_only: String(options.externalOnly ?? true) },
      accept: 'application/json',
    });
  }
}

/** A container: children are fetched lazily, page by page, following `links.next`. */
export class Container extends BaseNode {
  constructor(
    context: Context,
    path: readonly string[],
    item: Resource,
    private readonly filters: readonly Query[] = [],
    private readonly sorting: readonly string[] = [],
  ) {
    super(context, path, item);
  }

  /** A view of this container narrowed by `query` (filters combine with AND). */
  search(query: Query): Container {
    return new Container(this.context, this.path, this.item, [...this.filters, query], this.sorting);
  }

  /** A view sorted by metadata keys: `'color'` ascending, `'-color'` descending. */
  sort(...keys: string[]): Container {
    return new Container(this.context, this.path, this.item, this.filters, keys);
  }

  private params(extra: Record<string, string> = {}): URLSearchParams {
    const params = queryParams(this.filters);
    for (const key of this.sorting) params.append('sort', key);
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    return params;
  }

  private get searchUrl(): string {
    return this.item.links?.search ?? nodeUrl(this.context, 'search', this.path);
  }

  /** The number of children matching this view's filters. */
  async length(): Promise<number> {
    const page = (await this.context.fetchDocument('GET', this.searchUrl, {
      query: this.params({ 'page[limit]': '0' }),
      accept: 'application/json',
    })) as SearchPage;
    return page.meta?.count ?? 0;
  }

  private async *pages(fields?: string): AsyncGenerator<Resource[]> {
    const own = this.params(fields === undefined ? {} : { fields });
    let url: string | null = this.searchUrl;
    while (url) {
      // The server's `next` link carries only pagination; our filters and sort are merged into every page.
      const next: URL = new URL(url);
      const query = new URLSearchParams(next.searchParams);
      for (const key of new Set(own.keys())) query.delete(key);
      for (const [key, value] of own) query.append(key, value);
      next.search = '';
      const page = (await this.context.fetchDocument('GET', next.toString(), { query, accept: 'application/json' })) as SearchPage;
      yield page.data;
      url = page.links?.next && page.data.length ? page.links.next : null;
    }
  }

  async *keys(): AsyncGenerator<string> {
    for await (const page of this.pages('')) for (const item of page) yield item.id;
  }

  async *items(): AsyncGenerator<[string, Node]> {
    for await (const page of this.pages()) {
      for (const item of page) yield [item.id, nodeFor(this.context, [...this.path, item.id], item)];
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<string> {
    return this.keys();
  }

  private async create(body: Record<string, unknown>): Promise<Node> {
    const created = (await this.context.fetchDocument('POST', nodeUrl(this.context, 'metadata', this.path), { json: body, accept: 'application/json' })) as { id: string };
    return fetchNode(this.context, [...this.path, created.id]);
  }

  private static common(options: NodeOptions): Record<string, unknown> {
    return { id: options.key ?? null, metadata: options.metadata ?? {}, specs: (options.specs ?? []).map((s) => ({ name: s.name, version: s.version ?? null })) };
  }

  /** Create a child container (Tiled's `create_container`). */
  async createContainer(options: NodeOptions = {}): Promise<Container> {
    return (await this.create({ ...Container.common(options), structure_family: 'container', data_sources: [] })) as Container;
  }

  /** Create a child array from a C-order typed array and upload it: whole, or block by block with `chunks` (Tiled's `write_array`). */
  async writeArray(data: WritableArray, options: WriteArrayOptions): Promise<ArrayNode> {
    const { shape } = options;
    if (shape.reduce((a, b) => a * b, 1) !== data.length) throw new TiledClientError(0, `shape ${JSON.stringify(shape)} does not hold ${data.length} elements`);
    const chunks = options.chunks ?? wholeChunks(shape);
    checkChunks(shape, chunks);
    const structure = { data_type: dataTypeOf(data), chunks, shape, dims: options.dims ?? null, resizable: false };
    const node = (await this.create({
      ...Container.common(options),
      structure_family: 'array',
      data_sources: [{ structure_family: 'array', structure, id: null, mimetype: null, parameters: {}, properties: {}, assets: [], management: 'writable' }],
    })) as ArrayNode;
    if (chunks.every((c) => c.length === 1)) await node.write(data);
    else for (const block of blockIndices(chunks)) await node.writeBlock(block, blockBytes(data, shape, chunks, block));
    return (await node.refresh()) as ArrayNode;
  }

  /**
   * Create a child table from an Apache Arrow table and upload it (Tiled's `write_dataframe`). With
   * `appendable`, the table is stored as SQL rows that {@link TableNode.appendRows} extends (Tiled's
   * `create_appendable_table`); the catalog needs tabular storage for that.
   */
  async writeTable(table: Table, options: NodeOptions & { appendable?: boolean } = {}): Promise<TableNode> {
    const structure = { arrow_schema: arrowSchemaOf(table), npartitions: 1, columns: table.schema.fields.map((f) => f.name), resizable: false };
    const mimetype = options.appendable ? 'application/x-tiled-sql-table' : null;
    const node = (await this.create({
      ...Container.common(options),
      structure_family: 'table',
      data_sources: [{ structure_family: 'table', structure, id: null, mimetype, parameters: {}, properties: {}, assets: [], management: 'writable' }],
    })) as TableNode;
    if (options.appendable) await node.appendRows(table);
    else await node.write(table);
    return node;
  }

  /**
   * Create a child sparse array in COO layout from its elements, `coords[d][i]` being element i's index
   * along dimension d, and upload them as one block (Tiled's `write_sparse`).
   */
  async writeSparse(coords: number[][], data: SparseValues, options: WriteSparseOptions): Promise<SparseNode> {
    const { shape } = options;
    if (coords.length !== shape.length || coords.some((c) => c.length !== data.length)) {
      throw new TiledClientError(0, `coords must hold ${shape.length} lists of ${data.length} indices, one per dimension of shape ${JSON.stringify(shape)}`);
    }
    const structure = {
      chunks: wholeChunks(shape),
      shape,
      data_type: dataTypeOf(data),
      coord_data_type: { endianness: 'little', kind: 'i', itemsize: 8, dt_units: null },
      dims: options.dims ?? null,
      resizable: false,
      layout: 'COO',
    };
    const node = (await this.create({
      ...Container.common(options),
      structure_family: 'sparse',
      data_sources: [{ structure_family: 'sparse', structure, id: null, mimetype: null, parameters: {}, properties: {}, assets: [], management: 'writable' }],
    })) as SparseNode;
    await node.write(coords, data);
    return node;
  }

  /** A child by key, or a descendant by `a/b/c` path. */
  async get(key: string): Promise<Node> {
    const parts = key.split('/').filter(Boolean);
    if (!this.filters.length || parts.length > 1) return fetchNode(this.context, [...this.path, ...parts]);
    const params = this.params();
    params.append('filter[lookup][condition][key]', key);
    const page = (await this.context.fetchDocument('GET', this.searchUrl, { query: params, accept: 'application/json' })) as SearchPage;
    const found = page.data[0];
    if (!found) throw new TiledClientError(404, `No such entry: ${key}`);
    return nodeFor(this.context, [...this.path, key], found);
  }
}

function typedArrayFor(dtype: DataType, buffer: ArrayBuffer): TypedArray {
  const { kind, itemsize } = dtype;
  if (dtype.endianness === 'big' && itemsize > 1) swapBytes(new Uint8Array(buffer), itemsize);
  const key = `${kind}${itemsize}`;
  switch (key) {
    case 'f4':
      return new Float32Array(buffer);
    case 'f8':
      return new Float64Array(buffer);
    case 'i1':
      return new Int8Array(buffer);
    case 'i2':
      return new Int16Array(buffer);
    case 'i4':
      return new Int32Array(buffer);
    case 'i8':
    case 'M8':
    case 'm8':
      return new BigInt64Array(buffer);
    case 'u1':
    case 'b1':
      return new Uint8Array(buffer);
    case 'u2':
      return new Uint16Array(buffer);
    case 'u4':
      return new Uint32Array(buffer);
    case 'u8':
      return new BigUint64Array(buffer);
    default:
      // Complex, strings, float16 and structured types: hand over the raw bytes with the dtype string.
      return new Uint8Array(buffer);
  }
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let offset = 0; offset + size <= bytes.length; offset += size) bytes.subarray(offset, offset + size).reverse();
}

function dtypeString(dtype: DataType): string {
  const order = dtype.endianness === 'big' ? '>' : dtype.endianness === 'little' ? '<' : '|';
  return `${order}${dtype.kind}${dtype.itemsize}${dtype.dt_units ?? ''}`;
}

/** The shape numpy basic indexing (`i`, `start:stop:step`, comma-separated) gives for `shape`. */
export function slicedShape(shape: readonly number[], slice: string): number[] {
  const parts = slice.split(',');
  if (parts.length > shape.length) throw new TiledClientError(0, `Slice '${slice}' has more dimensions than the array (${shape.length})`);
  const result: number[] = [];
  shape.forEach((size, dim) => {
    const part = (parts[dim] ?? ':').trim();
    if (!part.includes(':')) {
      if (!/^-?\d+$/.test(part)) throw new TiledClientError(0, `Invalid slice component '${part}'`);
      return; // an integer index drops the dimension
    }
    const [startText, stopText, stepText] = part.split(':');
    const step = stepText ? Number(stepText) : 1;
    if (!Number.isInteger(step) || step === 0) throw new TiledClientError(0, `Invalid slice step in '${part}'`);
    const clamp = (text: string | undefined, fallback: number): number => {
      if (!text) return fallback;
      let value = Number(text);
      if (value < 0) value += size;
      return step > 0 ? Math.min(Math.max(value, 0), size) : Math.min(Math.max(value, -1), size - 1);
    };
    const start = clamp(startText, step > 0 ? 0 : size - 1);
    const stop = clamp(stopText, step > 0 ? size : -1);
    result.push(Math.max(0, Math.ceil((stop - start) / step)));
  });
  return result;
}

export class ArrayNode extends BaseNode {
  get arrayStructure(): ArrayStructure {
    return this.item.attributes.structure as ArrayStructure;
  }

  get shape(): number[] {
    return this.arrayStructure.shape;
  }

  get dtype(): string {
    const dataType = this.arrayStructure.data_type;
    return 'kind' in dataType ? dtypeString(dataType) : `V${dataType.itemsize}`;
  }

  /** Read the whole array, or a numpy-style slice of it (`'0:2,::2'`), as a typed array plus shape. */
  async read(options: { slice?: string } = {}): Promise<ArrayData> {
    const shape = options.slice ? slicedShape(this.shape, options.slice) : this.shape;
    const query: Record<string, string> = { expected_shape: shape.length ? shape.join(',') : 'scalar' };
    if (options.slice) query.slice = options.slice;
    return this.fetchArray(this.item.links?.full ?? nodeUrl(this.context, 'array/full', this.path), query, shape);
  }

  /** Read one chunk, addressed by its index along every dimension. */
  async readBlock(block: number[]): Promise<ArrayData> {
    const chunks = this.arrayStructure.chunks;
    const shape = block.map((index, dim) => chunks[dim]?.[index] ?? 0);
    const base = this.item.links?.block?.split('?')[0] ?? nodeUrl(this.context, 'array/block', this.path);
    return this.fetchArray(base, { block: block.join(','), expected_shape: shape.length ? shape.join(',') : 'scalar' }, shape);
  }

  /** Replace the whole array with C-order data of its shape and dtype. */
  async write(data: WritableArray): Promise<void> {
    await this.context.fetchDocument('PUT', nodeUrl(this.context, 'array/full', this.path), { bytes: { data: bytesOf(data), type: OCTET_STREAM } });
  }

  /** Replace one block (`block[i]` indexes the chunks of dimension i) with its C-order bytes. */
  async writeBlock(block: number[], data: WritableArray | Uint8Array): Promise<void> {
    await this.context.fetchDocument('PUT', nodeUrl(this.context, 'array/block', this.path), {
      query: { block: block.join(',') },
      bytes: { data: bytesOf(data), type: OCTET_STREAM },
    });
  }

  /** Write a region of `shape` at `offset`; with `extend`, grow the array to fit. Resolves to the node as it is afterwards. */
  async patch(data: WritableArray, options: { offset: number[]; shape: number[]; extend?: boolean }): Promise<ArrayNode> {
    await this.context.fetchDocument('PATCH', nodeUrl(this.context, 'array/full', this.path), {
      query: { offset: options.offset.join(','), shape: options.shape.join(','), extend: String(options.extend ?? false) },
      bytes: { data: bytesOf(data), type: OCTET_STREAM },
      accept: 'application/json',
    });
    return (await this.refresh()) as ArrayNode;
  }

  private async fetchArray(url: string, query: Record<string, string>, shape: number[]): Promise<ArrayData> {
    const dataType = this.arrayStructure.data_type;
    if (!('kind' in dataType)) throw new TiledClientError(0, 'Structured array types are not supported by this client yet');
    const response = await this.context.request('GET', url, { query, accept: 'application/octet-stream' });
    const buffer = await response.arrayBuffer();
    return { data: typedArrayFor(dataType, buffer), shape, dtype: dtypeString(dataType) };
  }
}

export class TableNode extends BaseNode {
  get tableStructure(): TableStructure {
    return this.item.attributes.structure as TableStructure;
  }

  get columns(): string[] {
    return this.tableStructure.columns;
  }

  /** The whole table (optionally only some columns) as an Apache Arrow table. */
  async read(options: { columns?: string[] } = {}): Promise<Table> {
    const url = this.item.links?.full ?? nodeUrl(this.context, 'table/full', this.path);
    return this.fetchTable(url, options.columns ? { column: options.columns } : {});
  }

  async readPartition(partition: number, options: { columns?: string[] } = {}): Promise<Table> {
    const url = this.item.links?.partition?.split('?')[0] ?? nodeUrl(this.context, 'table/partition', this.path);
    return this.fetchTable(url, { partition: String(partition), ...(options.columns ? { column: options.columns } : {}) });
  }

  /** Replace the table (of one partition) with `table`, whose columns must be the table's. */
  async write(table: Table): Promise<void> {
    await this.context.fetchDocument('PUT', nodeUrl(this.context, 'table/full', this.path), { bytes: { data: arrowFileOf(table), type: ARROW_FILE } });
  }

  /** Replace one partition. */
  async writePartition(partition: number, table: Table): Promise<void> {
    await this.context.fetchDocument('PUT', nodeUrl(this.context, 'table/partition', this.path), {
      query: { partition: String(partition) },
      bytes: { data: arrowFileOf(table), type: ARROW_FILE },
    });
  }

  /** Append rows to a partition (Tiled's `append_partition`). */
  async appendRows(table: Table, partition = 0): Promise<void> {
    await this.context.fetchDocument('PATCH', nodeUrl(this.context, 'table/partition', this.path), {
      query: { partition: String(partition) },
      bytes: { data: arrowFileOf(table), type: ARROW_FILE },
    });
  }

  private async fetchTable(url: string, query: Record<string, string | string[]>): Promise<Table> {
    const response = await this.context.request('GET', url, { query, accept: 'application/vnd.apache.arrow.file' });
    return arrow().tableFromIPC(new Uint8Array(await response.arrayBuffer()));
  }
}

/** The Arrow table the server takes and gives for sparse elements: columns dim0…dimN-1 (int64) and data. */
function cooTable(coords: number[][], data: SparseValues): Uint8Array {
  const columns: Record<string, SparseValues> = {};
  coords.forEach((c, d) => (columns[`dim${d}`] = BigInt64Array.from(c, (v) => BigInt(v))));
  columns.data = data;
  return arrowFileOf(arrow().tableFromArrays(columns));
}

/** A sparse array (Tiled's `sparse` family, COO layout). */
export class SparseNode extends BaseNode {
  get shape(): number[] {
    return (this.item.attributes.structure as { shape: number[] }).shape;
  }

  get chunks(): number[][] {
    return (this.item.attributes.structure as { chunks: number[][] }).chunks;
  }

  /** The stored elements of the whole array, or of a numpy-style slice of it, coordinates in the result's frame. */
  async read(options: { slice?: string } = {}): Promise<SparseData> {
    const shape = options.slice ? slicedShape(this.shape, options.slice) : this.shape;
    return this.fetchElements(this.item.links?.full ?? nodeUrl(this.context, 'array/full', this.path), options.slice ? { slice: options.slice } : {}, shape);
  }

  /** The stored elements of one block, coordinates relative to the block. */
  async readBlock(block: number[]): Promise<SparseData> {
    const base = this.item.links?.block?.split('?')[0] ?? nodeUrl(this.context, 'array/block', this.path);
    return this.fetchElements(base, { block: block.join(',') }, block.map((b, d) => this.chunks[d]?.[b] ?? 0));
  }

  /** Replace the array's elements (it must have one block). */
  async write(coords: number[][], data: SparseValues): Promise<void> {
    await this.context.fetchDocument('PUT', nodeUrl(this.context, 'array/full', this.path), { bytes: { data: cooTable(coords, data), type: ARROW_FILE } });
  }

  /** Replace one block's elements, coordinates relative to the block. */
  async writeBlock(block: number[], coords: number[][], data: SparseValues): Promise<void> {
    await this.context.fetchDocument('PUT', nodeUrl(this.context, 'array/block', this.path), { query: { block: block.join(',') }, bytes: { data: cooTable(coords, data), type: ARROW_FILE } });
  }

  private async fetchElements(url: string, query: Record<string, string>, shape: number[]): Promise<SparseData> {
    const response = await this.context.request('GET', url, { query, accept: ARROW_FILE });
    const table = arrow().tableFromIPC(new Uint8Array(await response.arrayBuffer()));
    const coords = shape.map((_, d) => Array.from(table.getChild(`dim${d}`)?.toArray() as ArrayLike<bigint | number>, Number));
    return { coords, data: table.getChild('data')!.toArray() as SparseValues, shape };
  }
}

export type Node = Container | ArrayNode | TableNode | SparseNode | BaseNode;

export function nodeFor(context: Context, path: readonly string[], item: Resource): Node {
  switch (item.attributes.structure_family) {
    case 'container':
      return new Container(context, path, item);
    case 'array':
      return new ArrayNode(context, path, item);
    case 'table':
      return new TableNode(context, path, item);
    case 'sparse':
      return new SparseNode(context, path, item);
    default:
      return new BaseNode(context, path, item);
  }
}

export async function fetchNode(context: Context, path: readonly string[]): Promise<Node> {
  const document = (await context.fetchDocument('GET', nodeUrl(context, 'metadata', path), { accept: 'application/json' })) as {
    data: Resource;
  };
  return nodeFor(context, path, document.data);
}
