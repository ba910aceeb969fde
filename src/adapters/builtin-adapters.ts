/**
 * The adapters tiled-ts ships, one line each. Adding a format: write `src/adapters/<format>.ts` exporting
 * an AdapterRegistration and list it here; the registry, the folder walker and docs/files.md pick it up.
 */
import type { AdapterRegistration } from './adapter.types';
import { csvAdapter, csvSequenceAdapter, csvWithHeaderAdapter } from './csv';
import { excelAdapter } from './excel';
import { parquetAdapter } from './parquet';

export const BUILTIN_ADAPTERS: readonly AdapterRegistration[] = [
  csvAdapter,
  csvSequenceAdapter,
  csvWithHeaderAdapter,
  excelAdapter,
  parquetAdapter,
];
