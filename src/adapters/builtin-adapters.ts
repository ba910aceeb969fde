/**
 * The adapters tiled-ts ships, one line each. Adding a format: write `src/adapters/<format>.ts` exporting
 * an AdapterRegistration and list it here; the registry, the folder walker and docs/files.md pick it up.
 */
import type { AdapterRegistration } from './adapter.types';
import { csvAdapter, csvSequenceAdapter, csvWithHeaderAdapter } from './csv';
import { excelAdapter } from './excel';
import { hdf5Adapter } from './hdf5';
import { jpegAdapter, pngAdapter } from './image';
import { npyAdapter } from './npy';
import { parquetAdapter } from './parquet';
import { jpegSequenceAdapter, npySequenceAdapter } from './sequence';
import { tiffAdapter, tiffSequenceAdapter } from './tiff';
import { zarrAdapter } from './zarr';

export const BUILTIN_ADAPTERS: readonly AdapterRegistration[] = [
  csvAdapter,
  csvSequenceAdapter,
  csvWithHeaderAdapter,
  excelAdapter,
  parquetAdapter,
  hdf5Adapter,
  zarrAdapter,
  tiffAdapter,
  tiffSequenceAdapter,
  pngAdapter,
  jpegAdapter,
  jpegSequenceAdapter,
  npyAdapter,
  npySequenceAdapter,
];
