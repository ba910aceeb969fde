/**
 * A CommonJS package loaded on first use instead of at startup. Every package a module imports is loaded
 * with it, and a `tiled serve` process imports every adapter, encoder and storage backend it might need:
 * loaded eagerly, the ones a server never uses (PostgreSQL's driver on SQLite, Parquet and Arrow without
 * tables, geotiff without TIFF files) cost each process startup time and about 20 MiB of resident memory
 * (docs/files.md, "Limits"). ESM-only packages use `importEsm` (esm.ts) instead.
 */
export function lazyRequire<T>(specifier: string): () => T {
  let module: T | undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return () => (module ??= require(specifier) as T);
}
