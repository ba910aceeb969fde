import { DTYPES } from '../tree/dtype';
import type { ArrayNode, TableNode } from '../tree/tree.types';
import { encodeArrowSchema } from './table-data';

/**
 * Tiled's structure document of an array or a table: what resources show under `structure` and what a
 * registered data source stores. `arrowSchema` lets a caller pass the table's schema from a cache.
 */
export function dataStructureOf(node: ArrayNode | TableNode, arrowSchema?: (table: TableNode) => string): Record<string, unknown> {
  if (node.family === 'array') {
    const info = DTYPES[node.dtype];
    return {
      data_type: { endianness: info.endianness, kind: info.kind, itemsize: info.itemsize, dt_units: null },
      chunks: node.chunks,
      shape: node.shape,
      dims: node.dims ?? null,
      resizable: false,
    };
  }
  const schema = arrowSchema ? arrowSchema(node) : encodeArrowSchema(node.columns);
  return { arrow_schema: schema, npartitions: node.npartitions, columns: node.columns.map((c) => c.name), resizable: false };
}
