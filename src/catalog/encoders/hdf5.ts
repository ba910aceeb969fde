import { randomUUID } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadRequestError } from '../../common/errors/tiled-http.error';
import { readSelection, select } from '../data/ndarray';
import { yieldToEventLoop } from '../http/send';
import { DTYPES } from '../tree/dtype';
import type { ArrayNode, ContainerNode, Metadata, NumericArray, TableColumn, TableNode, TablePartition, TreeNode } from '../tree/tree.types';
import { importEsm } from './esm';
import { columnValues } from './table-columns';

/** What an HDF5 export may hold: it is assembled in memory (and in h5wasm's heap, which never shrinks). */
export const HDF5_EXPORT_BYTE_LIMIT = 64 * 1024 * 1024;
/** Most groups and datasets in one HDF5 export: each is a walk step and an HDF5 object. */
export const HDF5_EXPORT_NODE_LIMIT = 10_000;

interface H5Object {
  create_attribute(name: string, data: unknown, shape?: number[] | null, dtype?: string | null): void;
}
interface H5Group extends H5Object {
  create_group(name: string): H5Group;
  create_dataset(options: { name: string; data: unknown; shape?: number[] }): H5Object;
}
interface H5File extends H5Group {
  close(): void;
}
interface H5Wasm {
  ready: Promise<unknown>;
  File: new (path: string, mode: string) => H5File;
}

/** Lists a container's children; the catalog's cached listing is passed in so the walk sees what the routes see. */
export type ChildLister = (container: ContainerNode) => Promise<readonly { key: string; node: TreeNode }[]>;

type Item =
  | { kind: 'group'; path: readonly string[]; metadata: Metadata }
  | { kind: 'dataset'; path: readonly string[]; metadata: Metadata; data: NumericArray | string[]; shape: readonly number[] };

class Plan {
  readonly items: Item[] = [];
  private bytes = 0;

  add(item: Item, bytes: number): void {
    this.bytes += bytes;
    if (this.items.length >= HDF5_EXPORT_NODE_LIMIT || this.bytes > HDF5_EXPORT_BYTE_LIMIT) {
      throw new BadRequestError(
        `This export would exceed the HDF5 export limit of ${HDF5_EXPORT_BYTE_LIMIT} bytes or ${HDF5_EXPORT_NODE_LIMIT} nodes. Export a sub-container, or select children with '?field=...'.`,
      );
    }
    this.items.push(item);
  }
}

function arrayBytes(node: ArrayNode): number {
  return node.shape.reduce((a, b) => a * b, 1) * DTYPES[node.dtype].itemsize;
}

async function addTableColumns(plan: Plan, table: TableNode, path: readonly string[]): Promise<void> {
  const partitions: TablePartition[] = [];
  for (let i = 0; i < table.npartitions; i++) partitions.push(await table.readPartition(i));
  for (const column of table.columns) {
    plan.add({ kind: 'dataset', path: [...path, column.name], metadata: {}, ...columnData(column, partitions) }, columnBytes(column, partitions));
  }
}

function columnData(column: TableColumn, partitions: readonly TablePartition[]): { data: NumericArray | string[]; shape: number[] } {
  const values = columnValues(column, partitions);
  const shape = [values.length];
  switch (column.type) {
    case 'string':
      return { data: values as string[], shape };
    case 'bool':
      return { data: Uint8Array.from(values as boolean[], (v) => (v ? 1 : 0)), shape };
    case 'int64':
      return { data: BigInt64Array.from(values as bigint[]), shape };
    case 'int32':
      return { data: Int32Array.from(values as number[]), shape };
    case 'float32':
      return { data: Float32Array.from(values as number[]), shape };
    case 'float64':
      return { data: Float64Array.from(values as number[]), shape };
  }
}

function columnBytes(column: TableColumn, partitions: readonly TablePartition[]): number {
  const rows = partitions.reduce((n, p) => n + p[column.name].length, 0);
  return rows * (column.type === 'string' ? 16 : column.type === 'bool' ? 1 : column.type.endsWith('32') ? 4 : 8);
}

async function walk(plan: Plan, node: TreeNode, path: readonly string[], children: ChildLister, only: ReadonlySet<string> | null): Promise<void> {
  if (node.family === 'array') {
    const bytes = arrayBytes(node);
    // Checked before reading: an array over the limit is never materialised.
    plan.add({ kind: 'dataset', path, metadata: node.metadata, data: new Uint8Array(0), shape: node.shape }, bytes);
    const item = plan.items[plan.items.length - 1] as Extract<Item, { kind: 'dataset' }>;
    item.data = await readSelection(node, select(node.shape, []));
    return;
  }
  if (path.length) plan.add({ kind: 'group', path, metadata: node.metadata }, 0);
  if (node.family === 'table') return addTableColumns(plan, node, path);
  for (const { key, node: child } of await children(node)) {
    if (only && !only.has(key)) continue;
    await walk(plan, child, [...path, key], children, null);
    await yieldToEventLoop();
  }
}

/** Metadata values as HDF5 attributes: numbers and strings (and lists of them) natively, anything else as JSON text. */
function writeAttributes(target: H5Object, metadata: Metadata): void {
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (name === '') continue;
    if (typeof value === 'string') target.create_attribute(name, value);
    else if (typeof value === 'number') {
      if (Number.isInteger(value) && Math.abs(value) < 2 ** 31) target.create_attribute(name, value);
      else target.create_attribute(name, new Float64Array([value]), [], '<d');
    } else if (typeof value === 'bigint') target.create_attribute(name, new BigInt64Array([value]), [], '<q');
    else if (typeof value === 'boolean') target.create_attribute(name, new Uint8Array([value ? 1 : 0]), [], '|u1');
    else if (value instanceof Date) target.create_attribute(name, value.toISOString());
    else if (Array.isArray(value) && value.length && value.every((v) => typeof v === 'string')) target.create_attribute(name, value);
    else if (Array.isArray(value) && value.length && value.every((v) => typeof v === 'number')) target.create_attribute(name, Float64Array.from(value), [value.length], '<d');
    else target.create_attribute(name, JSON.stringify(value) ?? 'null');
  }
}

/**
 * The subtree as one HDF5 file, laid out as Tiled 0.2.16's `serialize_hdf5`: containers and tables are
 * groups, arrays and table columns are datasets, metadata are attributes (the node's own on the root).
 * Data are read asynchronously first (bounded by the limits above), then written in one pass.
 */
export async function encodeHdf5(node: TreeNode, children: ChildLister, only: readonly string[] = []): Promise<Buffer> {
  const plan = new Plan();
  await walk(plan, node, [], children, only.length ? new Set(only) : null);
  const h5wasm = await importEsm<H5Wasm>('h5wasm/node');
  await h5wasm.ready;
  const file = join(tmpdir(), `tiled-ts-export-${randomUUID()}.h5`);
  try {
    const root = new h5wasm.File(file, 'w');
    try {
      writeAttributes(root, node.metadata);
      const groups = new Map<string, H5Group>([['', root]]);
      for (const item of plan.items) {
        const parent = groups.get(item.path.slice(0, -1).join('/'));
        if (!parent) continue;
        const name = item.path[item.path.length - 1];
        if (item.kind === 'group') {
          const group = parent.create_group(name);
          writeAttributes(group, item.metadata);
          groups.set(item.path.join('/'), group);
        } else {
          const dataset = parent.create_dataset({ name, data: item.data, shape: [...item.shape] });
          writeAttributes(dataset, item.metadata);
        }
      }
    } finally {
      root.close();
    }
    return await readFile(file);
  } finally {
    await unlink(file).catch(() => undefined);
  }
}
