import { Injectable } from '@nestjs/common';
import { BadRequestError, TiledHttpError } from '../../common/errors/tiled-http.error';
import { CatalogService } from '../catalog.service';
import type { RequestAccess } from '../access/node-access';
import { boolParam, intParam, missing, patternParam, Query } from '../http/query-params';
import { pyTuple } from '../http/python-repr';
import type { DataSourceRow } from './catalog-store';
import { catalogHandle, CatalogHandle } from './catalog-handle';

/** The storage side, loaded on first use (not part of every server's start). */
const storage = (): Promise<typeof import('./catalog-data-nodes')> => import('./catalog-data-nodes');

export const OCTET_STREAM = 'application/octet-stream';
export const ARROW_FILE = 'application/vnd.apache.arrow.file';
const INTS_TEXT = '^[0-9]*(,[0-9]+)*$';
const INTS = new RegExp(INTS_TEXT);

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

function ints(query: Query, name: string, required: boolean): number[] | undefined {
  const text = patternParam(query, name, INTS, INTS_TEXT);
  if (text === undefined) {
    if (required) throw missing(name);
    return undefined;
  }
  return text === '' ? [] : text.split(',').map(Number);
}

export interface ArrayStructure {
  shape: number[];
  chunks: number[][];
  data_type: { itemsize: number; kind: string };
}

/** PUT/PATCH of array and table data on catalog nodes. */
@Injectable()
export class CatalogDataWriteService {
  constructor(private readonly catalog: CatalogService) {}

  private async target(pathText: string | undefined, access: RequestAccess | null, families: string[], refusal: string): Promise<{ handle: CatalogHandle; source: DataSourceRow }> {
    const located = await this.catalog.locate(pathText, access, ['write:data']);
    this.catalog.requireFamily(located, families);
    const handle = catalogHandle(located.node);
    if (!handle?.row) throw new TiledHttpError(405, refusal);
    const [source] = await handle.context.store.dataSources(handle.row.id);
    if (!source || source.management === 'external' || source.management === 'immutable') throw new TiledHttpError(405, refusal);
    return { handle, source };
  }

  private bytes(contentType: string | undefined, body: unknown, expected: string): Buffer {
    const type = mediaType(contentType);
    if (type !== expected) throw new TiledHttpError(415, `Content-Type ${JSON.stringify(type)} is not accepted here; send ${expected}`);
    if (!Buffer.isBuffer(body)) throw new BadRequestError('The request body is missing');
    return body;
  }

  async putArrayFull(pathText: string | undefined, contentType: string | undefined, body: unknown, query: Query, access: RequestAccess | null): Promise<void> {
    const persist = boolParam(query, 'persist', true);
    const { handle, source } = await this.target(pathText, access, ['array', 'sparse'], 'This node cannot accept array data.');
    if (source.structureFamily === 'sparse') {
      // Tiled's client sends a sparse array's elements as an Arrow table (columns dim0…dimN-1, data).
      const arrow = this.bytes(contentType, body, ARROW_FILE);
      if (!persist) return;
      await (await storage()).writeSparseArrayFull(handle.context, source, arrow);
      await handle.context.store.write((tx) => tx.touch(handle.row!.id));
      return;
    }
    const bytes = this.bytes(contentType, body, OCTET_STREAM);
    const structure = source.structure as unknown as ArrayStructure;
    checkByteLength(bytes, structure.shape, structure.data_type.itemsize, 'the array');
    if (!persist) return;
    await (await storage()).writeArrayFull(handle.context, source, bytes);
    await handle.context.store.write((tx) => tx.touch(handle.row!.id));
  }

  async putArrayBlock(pathText: string | undefined, contentType: string | undefined, body: unknown, query: Query, access: RequestAccess | null): Promise<void> {
    const block = ints(query, 'block', true)!;
    const persist = boolParam(query, 'persist', true);
    const { handle, source } = await this.target(pathText, access, ['array', 'sparse'], 'This node cannot accept array data.');
    if (source.structureFamily === 'sparse') {
      const arrow = this.bytes(contentType, body, ARROW_FILE);
      if (!persist) return;
      await (await storage()).writeSparseArrayBlock(handle.context, source, block, arrow);
      await handle.context.store.write((tx) => tx.touch(handle.row!.id));
      return;
    }
    const bytes = this.bytes(contentType, body, OCTET_STREAM);
    const structure = source.structure as unknown as ArrayStructure;
    if (block.length !== structure.shape.length || block.some((b, d) => b >= structure.chunks[d].length)) {
      throw new BadRequestError(`Block ${pyTuple(block)} is out of range: this array has ${pyTuple(structure.chunks.map((c) => c.length))} blocks per dimension`);
    }
    checkByteLength(bytes, block.map((b, d) => structure.chunks[d][b]), structure.data_type.itemsize, `block ${pyTuple(block)}`);
    if (!persist) return;
    await (await storage()).writeArrayBlock(handle.context, source, block, bytes);
    await handle.context.store.write((tx) => tx.touch(handle.row!.id));
  }

  async patchArray(pathText: string | undefined, contentType: string | undefined, body: unknown, query: Query, access: RequestAccess | null): Promise<Record<string, unknown>> {
    const given = ints(query, 'offset', true)!;
    const shape = ints(query, 'shape', true)!;
    const extend = boolParam(query, 'extend');
    const persist = boolParam(query, 'persist', true);
    if (extend && !persist) {
      throw new BadRequestError(
        'Cannot PATCH an array with both parameters extend=True and persist=False. To extend the array, you must persist the changes. To skip persisting the changes, you must not extend the array.',
      );
    }
    const { handle, source } = await this.target(pathText, access, ['array'], 'This node cannot accept array data.');
    const bytes = this.bytes(contentType, body, OCTET_STREAM);
    const structure = source.structure as unknown as ArrayStructure;
    const ndim = structure.shape.length;
    if (given.length > ndim || shape.length !== ndim) {
      throw new BadRequestError(`shape must have ${ndim} comma-separated integers, one per dimension of this array, and offset at most ${ndim}`);
    }
    // Tiled pads a short offset with zeros: the client's own example extends a 3-d array with offset=(3,).
    const offset = [...given, ...new Array<number>(ndim - given.length).fill(0)];
    const beyond = shape.some((n, d) => offset[d] + n > structure.shape[d]);
    if (beyond && !extend) {
      throw new TiledHttpError(
        409,
        `Slice ${pyTuple(offset)} + ${pyTuple(shape)} does not fit within the array of shape ${pyTuple(structure.shape)}. Pass extend=True to grow the array.`,
      );
    }
    checkByteLength(bytes, shape, structure.data_type.itemsize, 'the patch');
    if (!persist) return source.structure ?? {};
    const { patchArray } = await storage();
    // Read, write and record the new shape under the node's lock: two concurrent extensions (from this or
    // another process) apply one after the other, each to the shape the other left.
    return handle.context.store.write(async (tx) => {
      await tx.lockNode(handle.row!.id);
      const [current] = await tx.dataSources(handle.row!.id);
      const next = await patchArray(handle.context, current ?? source, offset, shape, bytes, extend);
      await tx.updateStructure(source.id, next);
      await tx.touch(handle.row!.id);
      return next;
    });
  }

  async putTable(pathText: string | undefined, contentType: string | undefined, body: unknown, query: Query | undefined, mode: 'put' | 'append', access: RequestAccess | null): Promise<void> {
    const refusal = query === undefined ? 'This node does not support writing.' : 'This node does not supporting writing a partition.';
    let partition = 0;
    if (query !== undefined) {
      const value = intParam(query, 'partition', { ge: 0 });
      if (value === undefined) throw missing('partition');
      partition = value;
    }
    const { handle, source } = await this.target(pathText, access, ['table'], refusal);
    const bytes = this.bytes(contentType, body, ARROW_FILE);
    const npartitions = Number((source.structure as { npartitions?: number } | null)?.npartitions ?? 1);
    if (query === undefined && npartitions !== 1) throw new BadRequestError(`This table has ${npartitions} partitions; write each with PUT /table/partition/{path}?partition=i`);
    if (partition >= npartitions) throw new BadRequestError(`Partition ${partition} is out of range: this table has ${npartitions} partition${npartitions === 1 ? '' : 's'}`);
    const { appendTablePartition, writeTablePartition } = await storage();
    await handle.context.store.write(async (tx) => {
      if (mode === 'append') {
        const next = await appendTablePartition(handle.context, source, partition, bytes);
        await tx.updateStructure(source.id, next);
      } else {
        await writeTablePartition(handle.context, source, partition, bytes);
      }
      await tx.touch(handle.row!.id);
    });
  }
}

function checkByteLength(bytes: Buffer, shape: readonly number[], itemsize: number, what: string): void {
  const expected = shape.reduce((a, b) => a * b, 1) * itemsize;
  if (bytes.length !== expected) {
    throw new BadRequestError(`Expected ${expected} bytes for ${what} (shape ${pyTuple(shape)}, ${itemsize} bytes per element), got ${bytes.length}`);
  }
}

