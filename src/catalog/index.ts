/**
 * The public tree adapter API of tiled-ts: implement these interfaces (or use the builders) and
 * name your module in `trees[].tree` or `tiled serve module ./file.js:exportName`. See docs/catalog.md.
 */
export type {
  AccessBlob,
  ArrayNode,
  ChildDistinctRequest,
  ChildDistinctResult,
  ChildSearchRequest,
  ChildSearchResult,
  ColumnType,
  ColumnValues,
  ContainerNode,
  DType,
  DistinctValue,
  Filter,
  MaybePromise,
  Metadata,
  NumericArray,
  SortKey,
  Spec,
  StructureFamily,
  TableColumn,
  TableNode,
  TablePartition,
  TreeFactory,
  TreeNode,
} from './tree/tree.types';
export { arrayNode, chunkLengths, containerNode, generatedArrayNode, tableNode } from './tree/tree-builders';
export type { ArrayOptions, NodeOptions } from './tree/tree-builders';
export { demoTree } from './tree/demo-tree';
