/**
 * `import()` of an ES-module-only package from this CommonJS build: TypeScript would compile a plain
 * `import()` to `require()`, which cannot load a package whose "exports" has only an "import" condition
 * (h5wasm, numcodecs). Each module is loaded once, on first use, so servers that never export pay nothing.
 */
const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

const loaded = new Map<string, Promise<unknown>>();

export function importEsm<T>(specifier: string): Promise<T> {
  let module = loaded.get(specifier);
  if (!module) {
    module = dynamicImport(specifier);
    // A failed load (missing optional package) is retried on the next request rather than cached.
    module.catch(() => loaded.delete(specifier));
    loaded.set(specifier, module);
  }
  return module as Promise<T>;
}
