import { BadRequestError } from '../../common/errors/tiled-http.error';
import { readSelection, select } from '../data/ndarray';
import { yieldToEventLoop } from '../http/send';
import { DTYPES } from '../tree/dtype';
import type { ArrayNode, ContainerNode, NumericArray, TableColumn, TableNode, TablePartition, TreeNode } from '../tree/tree.types';
import { encodeOffThread, ownBuffer } from './encoder-pool';
import type { Hdf5Item } from './hdf5-writer';
import { columnValues } from './table-columns';

/**
 * What an HDF5 export may hold: it is read into memory, copied to an encoder thread and written through
 * h5wasm's heap (which never shrinks). 16 MiB keeps one export around a second on a busy machine.
 */
export const HDF5_EXPORT_BYTE_LIMIT = 16 * 1024 * 1024;
/** Most groups and datasets in one HDF5 export: each is a walk step and an HDF5 object. */
export const HDF5_EXPORT_NODE_LIMIT = 10_000;

/** Lists a container's children; the catalog's cached listing is passed in so the walk sees what the routes see. */
export type ChildLister = (container: ContainerNode) => Promise<readonly { key: string; node: TreeNode }[]>;

type Item = Hdf5Item;

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
    item.data = ownBuffer(await readSelection(node, select(node.shape, [])));
    return;
  }
  if (path.length) plan.add({ kind: 'group', path, metadata: node.metadata }, 0);
  if (node.family === 'table') return addTableColumns(plan, node, path);
  // A sparse array is exported as a group with its metadata: tiled-ts does not write Tiled's coords/data datasets.
  if (node.family === 'sparse') return;
  for (const { key, node: child } of await children(node)) {
    if (only && !only.has(key)) continue;
    await walk(plan, child, [...path, key], children, null);
    await yieldToEventLoop();
  }
}

/**
 * The subtree as one HDF5 file, laid out as Tiled 0.2.16's `serialize_hdf5`: containers and tables are
 * groups, arrays and table columns are datasets, metadata are attributes (the node's own on the root).
 * Data are read here, yielding between nodes and bounded by the limits above; the file is written on an
 * encoder thread.
 */
export async function encodeHdf5(node: TreeNode, children: ChildLister, only: readonly string[] = []): Promise<Buffer> {
  const plan = new Plan();
  await walk(plan, node, [], children, only.length ? new Set(only) : null);
  return encodeOffThread({ kind: 'hdf5', rootMetadata: node.metadata ?? {}, items: plan.items });
}
