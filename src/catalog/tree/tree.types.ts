/**
 * The tree adapter contract: what a tree must offer so tiled-ts can serve it.
 * Third parties implement these interfaces (or use the builders in `tree-builders.ts`) and export
 * the tree, or a (possibly async) function of `args` returning it, from a module named in config.
 *
 * Nodes are treated as immutable: the server caches encoded metadata documents per node object.
 * A tree whose content changes must hand out a new node object (set `cacheable: false` to opt out).
 */

import type { Filter, SortKey } from '../query/filter-ast';

export type { Filter, SortKey } from '../query/filter-ast';

export type StructureFamily = 'container' | 'array' | 'table' | 'sparse';

/** A spec names a convention the node follows; clients may pick a specialised reader by it. */
export interface Spec {
  name: string;
  version: string | null;
}

/** Free-form JSON metadata. `Date` values are sent as ISO-8601 strings (JSON) or Timestamps (msgpack). */
export type Metadata = Record<string, unknown>;

export type MaybePromise<T> = T | Promise<T>;

/**
 * Who may reach a node under an access policy: Tiled's `{"tags": ["proposal_42"]}` or `{"user": "alice"}`.
 * Served as the resource's `access_blob`. See docs/access-control.md.
 */
export type AccessBlob = Readonly<Record<string, unknown>>;

interface NodeCommon {
  readonly metadata: Metadata;
  readonly specs?: readonly Spec[];
  /**
   * Undefined: the node inherits its nearest ancestor's blob (none at all: no policy rule restricts it);
   * served as `access_blob` (`null` when undefined). Catalog nodes carry `{}` when created without a policy.
   */
  readonly accessBlob?: AccessBlob;
  /** false: never cache documents built from this node. Default true. */
  readonly cacheable?: boolean;
  /** Tiled's data sources of the node, shown with `include_data_sources=true`; absent → `null`. */
  dataSources?(): MaybePromise<readonly Record<string, unknown>[]>;
}

export interface ContainerNode extends NodeCommon {
  readonly family: 'container';
  /** Child keys in their natural (insertion) order; this is the default sort order. */
  keys(): MaybePromise<readonly string[]>;
  /** A child by key, or undefined when there is none. */
  get(key: string): MaybePromise<TreeNode | undefined>;
  /**
   * Optional: answer /search (and a container's child count) without the server listing every child, e.g.
   * by translating the filters to SQL. Must give what the in-memory path gives: the children every filter
   * accepts, narrowed by `lookups`, in `sorting` order with insertion order breaking ties. Without it the
   * server calls `keys()`/`get()` and filters in memory.
   */
  search?(request: ChildSearchRequest): Promise<ChildSearchResult>;
  /** Optional: answer /distinct over the children the filters accept (as `search`). */
  distinct?(request: ChildDistinctRequest): Promise<ChildDistinctResult>;
  /** The default sorting reported in resources; absent → Tiled's in-memory `[{key: '_', direction: 1}]`. */
  readonly sorting?: readonly { key: string; direction: 1 | -1 }[];
}

export interface ChildSearchRequest {
  /** ANDed; validated already (patterns compile). */
  readonly filters: readonly Filter[];
  /** Tiled's `lookup` keys: two different ones match nothing, one keeps only that child. */
  readonly lookups: readonly string[];
  readonly sorting: readonly SortKey[];
  readonly offset: number;
  /** 0 asks only for the count. */
  readonly limit: number;
}

export interface ChildSearchResult {
  /** Children matching, before offset and limit. */
  readonly count: number;
  readonly entries: readonly { readonly key: string; readonly node: TreeNode }[];
}

export interface ChildDistinctRequest {
  readonly filters: readonly Filter[];
  /** Tiled's `lookup` keys: children with any of these keys. */
  readonly lookups: readonly string[];
  /** Dotted metadata paths whose distinct values are wanted. */
  readonly metadata: readonly string[];
  readonly structureFamilies: boolean;
  readonly specs: boolean;
  /** Whether each value carries its count (null otherwise). */
  readonly counts: boolean;
}

export interface DistinctValue {
  readonly value: unknown;
  readonly count: number | null;
}

/** Values in the order their first child appears in insertion order; null where not asked for. */
export interface ChildDistinctResult {
  readonly metadata: Readonly<Record<string, readonly DistinctValue[]>> | null;
  readonly structure_families: readonly DistinctValue[] | null;
  readonly specs: readonly DistinctValue[] | null;
}

/** Element types of arrays; all multi-byte types are little-endian. `bool` is one byte, 0 or 1. */
export type DType =
  | 'bool'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

export type NumericArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export interface ArrayNode extends NodeCommon {
  readonly family: 'array';
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Per dimension, the lengths of its chunks; each list sums to that dimension's length. */
  readonly chunks: readonly (readonly number[])[];
  readonly dims?: readonly string[] | null;
  /**
   * The C-order values of one chunk (`block[i]` indexes `chunks[i]`), in the typed array matching
   * `dtype` (Uint8Array for bool). Returning the same object for repeated reads lets the server
   * reuse its ETag and compressed body.
   */
  readBlock(block: readonly number[]): MaybePromise<NumericArray>;
  /**
   * Optional: a cheap identity of the stored bytes of one block that changes whenever they change (for a
   * file: device, inode, size and modification and change times in nanoseconds). With it the server
   * derives the block's ETag from this identity instead of hashing the bytes it sends; without it, the
   * bytes are hashed. Asked before the block is read, so a write racing the read only makes the ETag older
   * than the body, never newer. Undefined for a block it cannot tell about: its bytes are hashed.
   */
  blockVersion?(block: readonly number[]): Promise<string | undefined>;
}

export type ColumnType = 'bool' | 'int32' | 'int64' | 'float32' | 'float64' | 'string';

export interface TableColumn {
  name: string;
  type: ColumnType;
}

/** One partition: a value list per column, all of the same length. int64 columns may be BigInt64Array or numbers. */
export type ColumnValues =
  | readonly number[]
  | readonly boolean[]
  | readonly string[]
  | Float64Array
  | Float32Array
  | Int32Array
  | BigInt64Array;

export type TablePartition = Record<string, ColumnValues>;

export interface TableNode extends NodeCommon {
  readonly family: 'table';
  readonly columns: readonly TableColumn[];
  readonly npartitions: number;
  readPartition(index: number): MaybePromise<TablePartition>;
}

/** Element types a sparse array may hold: those a table column can carry, since sparse data are served as tables. */
export type SparseDType = Extract<DType, 'bool' | 'int32' | 'int64' | 'float32' | 'float64'>;

/** The stored elements of one block of a sparse (COO) array. */
export interface SparseBlock {
  /** One list per dimension, each as long as `data`: the elements' coordinates, relative to the block. */
  readonly coords: readonly ArrayLike<number>[];
  readonly data: ColumnValues;
}

/**
 * A sparse array in COO layout (Tiled's `sparse` family): mostly zeros, only the stored elements are kept.
 * Served as tables of columns `dim0`…`dimN-1` and `data` (Tiled's serialisation of sparse arrays).
 */
export interface SparseNode extends NodeCommon {
  readonly family: 'sparse';
  readonly dtype: SparseDType;
  /** The type the coordinates were written with, shown as `coord_data_type`; default uint64 (Tiled's). */
  readonly coordDtype?: DType;
  readonly shape: readonly number[];
  readonly chunks: readonly (readonly number[])[];
  readonly dims?: readonly string[] | null;
  readBlock(block: readonly number[]): MaybePromise<SparseBlock>;
}

export type TreeNode = ContainerNode | ArrayNode | TableNode | SparseNode;

/** What a tree module may export: a tree, or a function of the config's `args` returning one. */
export type TreeFactory = (args: Record<string, unknown>) => MaybePromise<TreeNode>;
