import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { BadRequestError, TiledHttpError } from '../common/errors/tiled-http.error';
import { BodyMemory, discardUnshared } from '../common/http/body-memory';
import { DTYPES, bytesOf } from './tree/dtype';
import type { ArrayNode, NumericArray, SparseNode, TableColumn, TableNode, TablePartition, TreeNode } from './tree/tree.types';
import { selectElements, sparseSelect, sparseTable } from './data/sparse-data';
import type { SparseResult } from './data/sparse-data';
import { SliceError, SLICE_PATTERN, SLICE_PATTERN_TEXT, gather, parseSlice, readBlockChecked, readSelection, select } from './data/ndarray';
import { rowsOf, selectColumns } from './data/table-data';
import { ARRAY_BY_TYPE, ARRAY_DEFAULT, ARRAY_TYPES, HDF5, SPARSE_DEFAULT, SPARSE_TYPES, TABLE_BY_TYPE, TABLE_DEFAULT, TABLE_TYPES, TEXT_ENCODING_ELEMENT_LIMIT } from './encoders/registry';
import { ChildLister, encodeHdf5, HDF5_EXPORT_BYTE_LIMIT } from './encoders/hdf5';
import { encodeOffThread, ownBuffer } from './encoders/encoder-pool';
import { Encoded, dataEtag, etagOfBody } from './http/send';
import { contentTypeHeader } from './http/negotiate';
import { Query, all, intParam, missing, patternParam } from './http/query-params';
import { pyTuple } from './http/python-repr';

export { ARRAY_DEFAULT, ARRAY_TYPES, TABLE_DEFAULT, TABLE_TYPES, TEXT_ENCODING_ELEMENT_LIMIT };

/** Most names a column or field list (query or POSTed body) may hold; each one selects a copy of data. */
export const MAX_LISTED_NAMES = 1000;

/** FastAPI's answer to a list longer than its `max_length`, naming where the list came from. */
export function checkListLength(length: number, loc: (string | number)[]): void {
  if (length <= MAX_LISTED_NAMES) return;
  throw new TiledHttpError(422, [
    {
      type: 'too_long',
      loc,
      msg: `List should have at most ${MAX_LISTED_NAMES} items after validation, not ${length}`,
      input: null,
      ctx: { field_type: 'List', max_length: MAX_LISTED_NAMES, actual_length: length },
    },
  ]);
}

/** An encoder's element bound, checked before any encoding work (docs/security.md). */
function tooManyElements(count: number, limit: number | undefined, type: string, hint: string): void {
  if (limit === undefined || count <= limit) return;
  throw new BadRequestError(`Response of ${count} elements is too large to encode as ${type} (at most ${limit}). ${hint}`);
}

const ARRAY_HINT = "Use slicing ('?slice=...') to request smaller chunks, or request application/octet-stream.";

const noChildren: ChildLister = () => Promise.resolve([]);

/** pandas' bytes per cell of each column type (object columns count their 8-byte pointers, as pandas does). */
const COLUMN_BYTES: ReadonlyMap<string, number> = new Map([
  ['bool', 1],
  ['int32', 4],
  ['int64', 8],
  ['float32', 4],
  ['float64', 8],
  ['string', 8],
]);

/** Tiled's default `response_bytesize_limit`. */
export const RESPONSE_BYTESIZE_LIMIT = 300_000_000;

const BLOCK_PATTERN_TEXT = '^[0-9]*(,[0-9]+)*$';
const BLOCK_PATTERN = new RegExp(BLOCK_PATTERN_TEXT);
const EXPECTED_SHAPE_TEXT = '^[0-9]+(,[0-9]+)*$|^scalar$';
const EXPECTED_SHAPE = new RegExp(EXPECTED_SHAPE_TEXT);

/**
 * Recently sent array responses whose ETag is derived from the stored block's version, by ETag: the same
 * block asked for again (many clients of one dataset, a viewer paging back) is answered from memory after
 * a stat, with no read, copy or allocation, as the in-memory demo arrays are. A changed file changes the
 * version, hence the key, so nothing stale is served. Small (one 8 MiB block, or many small ones), since
 * whatever it holds adds to the peak memory of a server streaming a large file block by block, which
 * bench/hdf5-memory.ts measures against the 300 MiB target.
 */
export const BLOCK_CACHE_BYTES = 8 * 1024 * 1024;

@Injectable()
export class CatalogDataService {
  /** ETags of unsliced octet-stream bodies, keyed by the adapter's own array object (hashed once). */
  private readonly rawEtags = new WeakMap<NumericArray, Encoded>();
  private readonly recentBlocks = new LRUCache<string, Encoded>({
    maxSize: BLOCK_CACHE_BYTES,
    sizeCalculation: (encoded) => Math.max(1, encoded.body.length),
    // The cache holds a body's memory while it keeps the body (see cached()).
    dispose: (encoded) => encoded.memory?.release(),
  });

  /**
   * `version` identifies the stored bytes of what is encoded (ArrayNode.blockVersion) with the request
   * parts that selected them: given, the ETag is derived from it and the body is not hashed.
   */
  private async encodeArray(values: NumericArray, shape: readonly number[], node: ArrayNode, type: string, raw: boolean, version?: string): Promise<Encoded> {
    const etagOf = (body: Buffer): string | Promise<string> => (version === undefined ? etagOfBody(body, type) : dataEtag(version, type));
    if (type === 'application/octet-stream') {
      // An array read for this request alone is sent as it is, and freed once sent (common/http/body-memory.ts).
      const memory = BodyMemory.of(values);
      const keepEtag = raw && version === undefined && !memory;
      if (keepEtag) {
        const hit = this.rawEtags.get(values);
        if (hit) return hit;
      }
      const body = bytesOf(values);
      const encoded: Encoded = { body, type, etag: await etagOf(body), memory };
      if (keepEtag) this.rawEtags.set(values, encoded);
      return encoded;
    }
    const encoder = ARRAY_BY_TYPE.get(type);
    if (!encoder?.encode) throw new Error(`No array encoder for ${type}`);
    tooManyElements(values.length, encoder.maxElements, type, ARRAY_HINT);
    const array = { values, shape, dtype: node.dtype };
    const body = encoder.offThread ? await encodeOffThread({ kind: 'array', type, array: { ...array, values: ownBuffer(values) } }) : await encoder.encode(array);
    return { body, type: contentTypeHeader(type), etag: await etagOf(body) };
  }

  /**
   * A versioned response from recentBlocks, or encoded now and kept there. The caller gets its own hold on
   * the body's memory (Encoded.memory), which its response releases; the cache holds it while kept.
   */
  private async cached(version: string | undefined, type: string, encode: () => Promise<Encoded>): Promise<Encoded> {
    if (version === undefined) return encode();
    const key = dataEtag(version, type);
    const hit = this.recentBlocks.get(key);
    if (hit) {
      hit.memory?.hold();
      return hit;
    }
    const encoded = await encode();
    encoded.memory?.hold();
    this.recentBlocks.set(key, encoded);
    // A body larger than the whole cache is not kept, and not disposed of either.
    if (this.recentBlocks.peek(key) !== encoded) encoded.memory?.release();
    return encoded;
  }

  /** The version of one block's stored bytes with the request parts that select them, if the node keeps versions. */
  private async blockVersion(node: ArrayNode, block: readonly number[], ...selection: string[]): Promise<string | undefined> {
    const version = await node.blockVersion?.(block);
    return version === undefined ? undefined : [version, block.join(','), ...selection].join('\0');
  }

  /** Both bounds, from the shape alone: nothing is read for a response that would be refused. */
  private checkSize(shape: readonly number[], node: ArrayNode, type: string): void {
    const count = shape.reduce((a, b) => a * b, 1);
    tooManyElements(count, ARRAY_BY_TYPE.get(type)?.maxElements, type, ARRAY_HINT);
    const bytes = count * DTYPES[node.dtype].itemsize;
    if (bytes > RESPONSE_BYTESIZE_LIMIT) {
      throw new BadRequestError(`Response would exceed ${RESPONSE_BYTESIZE_LIMIT}. Use slicing ('?slice=...') to request smaller chunks.`);
    }
  }

  private expectedShape(query: Query): string | undefined {
    return patternParam(query, 'expected_shape', EXPECTED_SHAPE, EXPECTED_SHAPE_TEXT);
  }

  private shapeMatches(expected: string, shape: readonly number[]): boolean {
    return expected === 'scalar' ? shape.length === 0 : expected === shape.join(',');
  }

  /** The media types the /array routes negotiate for this node, and the default: sparse arrays are served as tables. */
  arrayFormats(node: TreeNode): [readonly string[], string] {
    return node.family === 'sparse' ? [SPARSE_TYPES, SPARSE_DEFAULT] : [ARRAY_TYPES, ARRAY_DEFAULT];
  }

  async arrayBlock(node: ArrayNode | SparseNode, query: Query, type: string): Promise<Encoded> {
    const blockText = patternParam(query, 'block', BLOCK_PATTERN, BLOCK_PATTERN_TEXT);
    if (blockText === undefined) throw missing('block');
    const sliceText = patternParam(query, 'slice', SLICE_PATTERN, SLICE_PATTERN_TEXT) ?? '';
    const expected = this.expectedShape(query);
    const ndim = node.shape.length;
    const block = blockText === '' ? [] : blockText.split(',').map(Number);
    if (block.length !== ndim) {
      throw new TiledHttpError(
        422,
        `Block parameter must have ${ndim} comma-separated parameters, corresponding to the dimensions of this ${ndim}-dimensional array.`,
      );
    }
    if (block.some((b, d) => b >= node.chunks[d].length)) {
      const chunks = `(${node.chunks.map((c) => pyTuple(c)).join(', ')}${node.chunks.length === 1 ? ',' : ''})`;
      throw new TiledHttpError(
        422,
        `Block parameter does not match the chunks dimensionality. Expected ${ndim} comma-separated integers, that index ${chunks}, got ${pyTuple(block)}.`,
      );
    }
    const blockShape = block.map((b, d) => node.chunks[d][b]);
    if (node.family === 'sparse') return this.sparseRead(node, [block], blockShape, sliceText, expected, type, 'block');
    let selection;
    try {
      selection = select(blockShape, parseSlice(sliceText));
    } catch (error) {
      if (!(error instanceof SliceError)) throw error;
      throw new TiledHttpError(422, `Slice parameter ${sliceText} is not valid for the shape ${pyTuple(blockShape)} that would result from the requested block.`);
    }
    if (expected !== undefined && !this.shapeMatches(expected, selection.shape)) {
      if (expected === 'scalar') throw new TiledHttpError(422, `Requested scalar but shape is ${pyTuple(selection.shape)}`);
      throw new TiledHttpError(
        422,
        `The expected shape ${pyTuple(expected.split(',').map(Number))} does not match the actual shape ${pyTuple(selection.shape)} that would result from the requested block and slice.`,
      );
    }
    this.checkSize(selection.shape, node, type);
    const version = await this.blockVersion(node, block, 'block', sliceText);
    return this.cached(version, type, async () => {
      const values = await readBlockChecked(node, block);
      const result = gather(values, blockShape, selection, DTYPES[node.dtype].create);
      if (result !== values) discardUnshared(values);
      return this.encodeArray(result, selection.shape, node, type, result === values, version);
    });
  }

  async arrayFull(node: ArrayNode | SparseNode, query: Query, type: string): Promise<Encoded> {
    const sliceText = patternParam(query, 'slice', SLICE_PATTERN, SLICE_PATTERN_TEXT) ?? '';
    const expected = this.expectedShape(query);
    if (node.family === 'sparse') {
      const all = node.chunks.reduce<number[][]>((acc, lengths) => acc.flatMap((prefix) => lengths.map((_, i) => [...prefix, i])), [[]]);
      return this.sparseRead(node, all, node.shape, sliceText, expected, type, 'full');
    }
    let selection;
    try {
      selection = select(node.shape, parseSlice(sliceText));
    } catch (error) {
      if (!(error instanceof SliceError)) throw error;
      throw new BadRequestError(`Block index out of range: slice ${sliceText} does not fit the shape ${pyTuple(node.shape)} (${error.message})`);
    }
    if (expected !== undefined && !this.shapeMatches(expected, selection.shape)) {
      // Tiled answers this with a 500 (an upstream bug); a client error is what it is.
      throw new BadRequestError(
        `The shape expected from the structure ${expected === 'scalar' ? '()' : pyTuple(expected.split(',').map(Number))} does not match the actual data shape ${pyTuple(selection.shape)}`,
      );
    }
    this.checkSize(selection.shape, node, type);
    const oneBlock = node.chunks.every((c) => c.length === 1);
    const version = oneBlock ? await this.blockVersion(node, node.shape.map(() => 0), 'full', sliceText) : undefined;
    return this.cached(version, type, async () => {
      const values = await readSelection(node, selection);
      return this.encodeArray(values, selection.shape, node, type, oneBlock && sliceText === '', version);
    });
  }

  /**
   * A sparse array's blocks (the whole array for /array/full, one block for /array/block), sliced, as Tiled's
   * table of its elements: columns dim0…dimN-1 with coordinates in the result's frame, and data.
   */
  private async sparseRead(node: SparseNode, blocks: number[][], shape: readonly number[], sliceText: string, expected: string | undefined, type: string, route: 'block' | 'full'): Promise<Encoded> {
    let selection;
    try {
      selection = sparseSelect(shape, parseSlice(sliceText));
    } catch (error) {
      if (!(error instanceof SliceError)) throw error;
      if (route === 'block') throw new TiledHttpError(422, `Slice parameter ${sliceText} is not valid for the shape ${pyTuple(shape)} that would result from the requested block.`);
      throw new BadRequestError(`Block index out of range: slice ${sliceText} does not fit the shape ${pyTuple(shape)} (${error.message})`);
    }
    if (expected !== undefined && !this.shapeMatches(expected, selection.shape)) {
      throw new TiledHttpError(
        route === 'block' ? 422 : 400,
        `The expected shape ${expected === 'scalar' ? '()' : pyTuple(expected.split(',').map(Number))} does not match the actual shape ${pyTuple(selection.shape)} that would result from the requested block and slice.`,
      );
    }
    const read = [];
    for (const block of blocks) {
      // /array/block answers in the block's frame; /array/full places each block at its offset.
      const offset = route === 'block' ? block.map(() => 0) : block.map((b, d) => node.chunks[d].slice(0, b).reduce((a, c) => a + c, 0));
      read.push({ block: await node.readBlock(block), offset });
    }
    const result = selectElements(node, read, selection);
    // Tiled's limit is on the sparse array's nbytes: its coordinates (int64) and its data.
    const bytes = result.data.length * (selection.shape.length * 8 + DTYPES[node.dtype].itemsize);
    if (bytes > RESPONSE_BYTESIZE_LIMIT) throw new BadRequestError(`Response would exceed ${RESPONSE_BYTESIZE_LIMIT}. Use slicing ('?slice=...') to request smaller chunks.`);
    if (type === HDF5) return this.sparseHdf5(node, result);
    const { columns, partition } = sparseTable(node, result);
    return this.encodeTable(columns, [partition], type, "Use slicing ('?slice=...') to request fewer elements, or request application/vnd.apache.arrow.file.");
  }

  /** Tiled's HDF5 form of a sparse array: datasets `data` (nnz) and `coords` (ndim × nnz), the metadata as file attributes. */
  private async sparseHdf5(node: SparseNode, result: SparseResult): Promise<Encoded> {
    const count = result.data.length;
    const ndim = result.coords.length;
    if (count * (ndim * 8 + DTYPES[node.dtype].itemsize) > HDF5_EXPORT_BYTE_LIMIT) {
      throw new BadRequestError(`This export would exceed the HDF5 export limit of ${HDF5_EXPORT_BYTE_LIMIT} bytes. Use slicing ('?slice=...') to request fewer elements.`);
    }
    const coords = new BigInt64Array(ndim * count);
    result.coords.forEach((c, d) => c.forEach((v, i) => (coords[d * count + i] = BigInt(v))));
    const data = node.dtype === 'bool' ? Uint8Array.from(result.data as boolean[], (v) => (v ? 1 : 0)) : (result.data as Float64Array | Float32Array | Int32Array | BigInt64Array);
    const body = await encodeOffThread({
      kind: 'hdf5',
      rootMetadata: node.metadata ?? {},
      items: [
        { kind: 'dataset', path: ['data'], metadata: {}, data, shape: [count] },
        { kind: 'dataset', path: ['coords'], metadata: {}, data: coords, shape: [ndim, count] },
      ],
    });
    return { body, type: HDF5, etag: await etagOfBody(body, HDF5) };
  }

  /** Rows of `columns` in a table media type; `hint` says how to ask for less when an encoder's bound is hit. */
  private async encodeTable(columns: readonly TableColumn[], parts: readonly TablePartition[], type: string, hint: string): Promise<Encoded> {
    const encoder = TABLE_BY_TYPE.get(type);
    tooManyElements(rowsOf(parts, columns) * columns.length, encoder?.maxElements, type, hint);
    let body: Buffer;
    if (encoder?.offThread) body = await encodeOffThread({ kind: 'table', type, columns: [...columns], partitions: [...parts] });
    else if (encoder?.encode) body = await encoder.encode(columns, parts);
    else throw new Error(`No table encoder for ${type}`);
    return { body, type: contentTypeHeader(type), etag: await etagOfBody(body, type) };
  }

  /** `column` (or the deprecated `field`) from the query, or the POSTed JSON list. */
  columnsRequested(query: Query, body: unknown, route: string): string[] | undefined {
    if (body !== undefined && body !== null && body !== '') {
      if (!Array.isArray(body) || !body.every((c) => typeof c === 'string')) {
        throw new TiledHttpError(422, [{ type: 'list_type', loc: ['body'], msg: 'Input should be a valid list of column names', input: body }]);
      }
      checkListLength(body.length, ['body']);
      return body;
    }
    const column = all(query, 'column');
    const field = all(query, 'field');
    checkListLength(column.length, ['query', 'column']);
    checkListLength(field.length, ['query', 'field']);
    if (column.length && field.length) {
      throw new BadRequestError(
        `Cannot accept both 'column' and 'field' query parameters in the same ${route} request. Include these query values using only the 'column' parameter.`,
      );
    }
    return column.length ? column : field.length ? field : undefined;
  }

  async table(node: TableNode, partition: number | 'all', requested: string[] | undefined, type: string): Promise<Encoded> {
    const columns = selectColumns(node, requested);
    if (typeof columns === 'string') throw new BadRequestError(columns);
    const parts: TablePartition[] = [];
    if (partition === 'all') for (let i = 0; i < node.npartitions; i++) parts.push(await node.readPartition(i));
    else parts.push(await node.readPartition(partition));
    // Tiled's check on the frame's memory, estimated before encoding: a column may be listed many times.
    const rows = rowsOf(parts, columns);
    const bytes = columns.reduce((sum, c) => sum + rows * (COLUMN_BYTES.get(c.type) ?? 8), 0);
    if (bytes > RESPONSE_BYTESIZE_LIMIT) {
      const hint = partition === 'all' ? 'Select a subset of the columns to' : "Select a subset of the columns ('?field=...') to";
      throw new BadRequestError(`Response would exceed ${RESPONSE_BYTESIZE_LIMIT}. ${hint} request a smaller chunks.`);
    }
    const hint = 'Select a subset of the columns or one partition, or request application/vnd.apache.arrow.file.';
    if (type !== HDF5) return this.encodeTable(columns, parts, type, hint);
    tooManyElements(rows * columns.length, TABLE_BY_TYPE.get(type)?.maxElements, type, hint);
    const selected: TableNode = { family: 'table', metadata: node.metadata, columns, npartitions: parts.length, readPartition: (i) => parts[i] };
    const body = await encodeHdf5(selected, noChildren);
    return { body, type: contentTypeHeader(type), etag: await etagOfBody(body, type) };
  }

  async containerHdf5(node: TreeNode, fields: readonly string[], children: ChildLister): Promise<Encoded> {
    const body = await encodeHdf5(node, children, fields);
    return { body, type: HDF5, etag: await etagOfBody(body, HDF5) };
  }

  partitionParam(node: TableNode, query: Query): number {
    const partition = intParam(query, 'partition');
    if (partition === undefined) throw missing('partition');
    if (partition < 0 || partition >= node.npartitions) throw new BadRequestError('Partition out of range');
    return partition;
  }
}
