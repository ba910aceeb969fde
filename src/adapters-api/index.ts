/**
 * The public file-adapter API of tiled-ts: what a third-party adapter imports (`tiled-ts/adapters-api`).
 *
 * An adapter opens the file(s) of one mimetype as a tree node. Export either the function or an
 * {@link AdapterRegistration} object, and name it in YAML (`adapters_by_mimetype: {mimetype: ./file.js:export}`)
 * or on the command line (`--adapter 'mimetype=./file.js:export'`). Read lazily: opening reads what the
 * structure needs; `readPartition`/`readBlock` read only that partition or block. Throw an
 * {@link AdapterError} for a file that cannot be read: that node alone answers its status and message,
 * the rest of the tree keeps working. docs/files.md ("Writing an adapter") has a complete example.
 *
 * @example
 * ```js
 * const { readFile } = require('node:fs/promises');
 * const { AdapterError } = require('tiled-ts/adapters-api');
 * // Serves a text file of numbers, one per line, as a one-column table.
 * exports.openNumbers = async ({ paths }) => {
 *   const values = (await readFile(paths[0], 'utf8')).split('\n').filter(Boolean).map(Number);
 *   if (values.some(Number.isNaN)) throw new AdapterError('Not a list of numbers', 422);
 *   return { family: 'table', metadata: {}, columns: [{ name: 'value', type: 'float64' }], npartitions: 1, readPartition: () => ({ value: values }) };
 * };
 * ```
 * @since 1
 */
export { AdapterError } from '../adapters/adapter.types';
export type { AdapterFactory, AdapterRegistration, AdapterSource } from '../adapters/adapter.types';
export type {
  ArrayNode,
  ColumnType,
  ColumnValues,
  ContainerNode,
  DType,
  MaybePromise,
  Metadata,
  NumericArray,
  Spec,
  TableColumn,
  TableNode,
  TablePartition,
  TreeNode,
} from '../catalog/tree/tree.types';
