/**
 * `import()` from this CommonJS build: TypeScript compiles a plain `import()` to `require()`, which cannot
 * load an ES module named by URL (a tree or plugin module) nor a package whose "exports" has only an
 * "import" condition (h5wasm, zarrita, fast-png, numcodecs). The Function body keeps the real `import()`.
 */
export const dynamicImport = new Function('specifier', 'return import(specifier)') as <T = Record<string, unknown>>(specifier: string) => Promise<T>;

const loaded = new Map<string, Promise<unknown>>();

/** `dynamicImport` loaded once, on first use, so servers that never need a library pay nothing for it. */
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
