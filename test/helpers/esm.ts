import { requireEsm } from '../../src/catalog/storage/zarrita';

/**
 * Readers that ship only as ES modules (h5wasm, hyparquet, zarrita), loaded by their file through
 * requireEsm: a Function-wrapped import() is resolved wrongly by Jest in a worker that has already run
 * another spec loading ES modules (the failure depends on which specs share the worker).
 */
export function esm<T>(specifier: string): Promise<T> {
  return Promise.resolve(requireEsm<T>(specifier));
}
