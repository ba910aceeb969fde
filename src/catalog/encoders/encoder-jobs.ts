import { TiledHttpError } from '../../common/errors/tiled-http.error';
import type { TableColumn, TablePartition } from '../tree/tree.types';
import type { Hdf5Item } from './hdf5-writer';
import type { ArrayExport } from './registry';

/** Work the encoder threads do: everything CPU-heavy enough to hold the event loop for long. */
export type EncoderJob =
  | { kind: 'array'; type: string; array: ArrayExport }
  | { kind: 'table'; type: string; columns: readonly TableColumn[]; partitions: readonly TablePartition[] }
  | { kind: 'hdf5'; rootMetadata: Record<string, unknown>; items: readonly Hdf5Item[] }
  | { kind: 'blosc'; bytes: Uint8Array };

export type EncoderReply = { id: number; body: Uint8Array } | { id: number; status?: number; detail?: unknown; message: string };

/** An error as it crosses the thread boundary: client errors keep their status and detail. */
export function replyForError(id: number, error: unknown): EncoderReply {
  if (error instanceof TiledHttpError) return { id, status: error.status, detail: error.detail, message: error.message };
  return { id, message: error instanceof Error ? error.message : String(error) };
}

export function errorFromReply(reply: Extract<EncoderReply, { message: string }>): Error {
  if (reply.status !== undefined) return new TiledHttpError(reply.status, reply.detail);
  return new Error(`Encoder thread failed: ${reply.message}`);
}
