import { DTYPES } from '../tree/dtype';
import type { ArrayNode, DType, SparseNode, TableNode } from '../tree/tree.types';
import { encodeArrowSchema } from './table-data';

/**
 * Tiled's structure document of an array or a table: what resources show under `structure` and what a
 * registered data source stores. `arrowSchema` lets a caller pass the table's schema from a cache.
 */
function dataType(dtype: DType): Record<string, unknown> {
  const info = DTYPES[dtype];
  return { endianness: info.endianness, kind: info.kind, itemsize: info.itemsize, dt_units: null };
}

export function dataStructureOf(node: ArrayNode | TableNode | SparseNode, arrowSchema?: (table: TableNode) => string): Record<string, unknown> {
  if (node.family === 'sparse') {
    // Tiled's COOStructure, keys in its order.
    return {
      chunks: node.chunks,
      shape: node.shape,
      data_type: dataType(node.dtype),
      coord_data_type: dataType(node.coordDtype ?? 'uint64'),
      dims: node.dims ?? null,
      resizable: false,
      layout: 'COO',
    };
  }
  if (node.family === 'array') {
    return {
      data_type: dataType(node.dtype),
      chunks: node.chunks,
      shape: node.shape,
      dims: node.dims ?? null,
      resizable: false,
    };
  }
  const schema = arrowSchema ? arrowSchema(node) : encodeArrowSchema(node.columns);
  return { arrow_schema: schema, npartitions: node.npartitions, columns: node.columns.map((c) => c.name), resizable: false };
}
