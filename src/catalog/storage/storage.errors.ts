import { TiledHttpError } from '../../common/errors/tiled-http.error';

/** Why a write to storage was refused; each maps to one HTTP status (see `STATUS`). */
export enum StorageErrorCode {
  /** The structure itself cannot be stored (irregular chunks, unsupported dtype or column type). */
  UnsupportedStructure = 'unsupported_structure',
  /** A body whose length is not what the structure (and block or region) requires. */
  WrongLength = 'wrong_length',
  BlockOutOfRange = 'block_out_of_range',
  PartitionOutOfRange = 'partition_out_of_range',
  /** A region or block whose rank or shape does not match the array. */
  ShapeMismatch = 'shape_mismatch',
  /** An Arrow body whose columns or types differ from the table's structure. */
  SchemaMismatch = 'schema_mismatch',
  /** A body that cannot be decoded (not an Arrow IPC file). */
  MalformedData = 'malformed_data',
  /** A PATCH region beyond the current shape without `extend`, as Tiled's `Conflicts`. */
  DoesNotFit = 'does_not_fit',
  /** A table or column name that cannot be used as an SQL identifier. */
  UnsafeIdentifier = 'unsafe_identifier',
}

const STATUS: ReadonlyMap<StorageErrorCode, number> = new Map([
  [StorageErrorCode.UnsupportedStructure, 400],
  [StorageErrorCode.WrongLength, 400],
  [StorageErrorCode.BlockOutOfRange, 400],
  [StorageErrorCode.PartitionOutOfRange, 400],
  [StorageErrorCode.ShapeMismatch, 400],
  [StorageErrorCode.SchemaMismatch, 400],
  [StorageErrorCode.MalformedData, 400],
  [StorageErrorCode.DoesNotFit, 409],
  [StorageErrorCode.UnsafeIdentifier, 400],
]);

/**
 * Bad input met by the storage layer. It is a TiledHttpError, so a route that lets it propagate answers
 * with its status and `{"detail": message}`, never a 500. Messages name no file path.
 */
export class StorageError extends TiledHttpError {
  constructor(
    readonly code: StorageErrorCode,
    message: string,
  ) {
    super(STATUS.get(code) ?? 400, message);
    this.name = 'StorageError';
  }
}
