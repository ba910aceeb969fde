/**
 * Numbered files of one format stacked along a new first axis, as Tiled 0.2.16's sequence adapters
 * serve `multipart/related;type=…`: the first file gives the dtype, the shape of the rest and its
 * chunks; the leading axis has one block per file, and a block read opens only its own file.
 */
import { basename } from 'node:path';
import type { ArrayNode } from '../catalog/tree/tree.types';
import { AdapterError, type AdapterRegistration, type AdapterSource } from './adapter.types';
import { jpegAdapter } from './image';
import { npyAdapter } from './npy';

function sameArray(a: ArrayNode, b: ArrayNode): boolean {
  return a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((n, i) => n === b.shape[i]);
}

async function openArray(single: AdapterRegistration, path: string): Promise<ArrayNode> {
  const node = await single.open({ mimetype: single.mimetype, paths: [path] });
  if (node.family !== 'array') throw new AdapterError(`${basename(path)}: Is not an array`, 415);
  return node;
}

/** A sequence adapter for `mimetype` built on the single-file adapter `single`. */
export function fileSequence(single: AdapterRegistration, mimetype: string): AdapterRegistration {
  return {
    mimetype,
    // Sequences are recognised by numbered names, never by extension alone: that stays the single-file adapter's.
    extensions: [],
    async open(source: AdapterSource): Promise<ArrayNode> {
      const paths = source.paths;
      if (paths.length === 0) throw new AdapterError('A file sequence needs at least one file', 400);
      const first = await openArray(single, paths[0]);
      return {
        family: 'array',
        metadata: {},
        dtype: first.dtype,
        shape: [paths.length, ...first.shape],
        chunks: [new Array<number>(paths.length).fill(1), ...first.chunks],
        async readBlock(block) {
          const [index, ...rest] = block;
          if (!Number.isInteger(index) || index < 0 || index >= paths.length) throw new AdapterError(`Block index ${index} is out of range for dimension 0`, 400);
          const node = index === 0 ? first : await openArray(single, paths[index]);
          if (!sameArray(node, first)) {
            throw new AdapterError(`${basename(paths[index])}: ${node.dtype} ${JSON.stringify(node.shape)} differs from the first file of the sequence (${first.dtype} ${JSON.stringify(first.shape)})`, 422);
          }
          return node.readBlock(rest);
        },
      };
    },
  };
}

export const jpegSequenceAdapter = fileSequence(jpegAdapter, 'multipart/related;type=image/jpeg');
export const npySequenceAdapter = fileSequence(npyAdapter, 'multipart/related;type=application/x-npy');
