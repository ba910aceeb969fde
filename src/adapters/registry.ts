/**
 * Which adapter opens which file: mimetype → AdapterRegistration, file extension → mimetype.
 * The defaults are Tiled 0.2.16's (its own table, plus what Python's `mimetypes` module answers for
 * the formats Tiled reads, since Tiled falls back to it); `--ext` and `mimetypes_by_file_ext` override
 * them, `--adapter` and `adapters_by_mimetype` add or replace adapters. docs/files.md lists them.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AdapterFactory, AdapterRegistration } from './adapter.types';
import { BUILTIN_ADAPTERS } from './builtin-adapters';
import { PARQUET_MIMETYPE, XLSX_MIMETYPE, ZARR_MIMETYPE } from './mimetypes';
import { dynamicImport } from '../common/esm';

export { PARQUET_MIMETYPE, XLSX_MIMETYPE, ZARR_MIMETYPE };

/** Extension → mimetype, as Tiled resolves them (its own table first, then Python's `mimetypes`). */
export const DEFAULT_MIMETYPES_BY_FILE_EXT: ReadonlyMap<string, string> = new Map([
  ['.h5', 'application/x-hdf5'],
  ['.npy', 'application/x-npy'],
  ['.nxs', 'application/x-hdf5'],
  ['.hdf', 'application/x-hdf5'],
  ['.hdf5', 'application/x-hdf5'],
  ['.csv', 'text/csv'],
  ['.zarr', ZARR_MIMETYPE],
  // Python's `mimetypes.guess_type` answers these.
  ['.tif', 'image/tiff'],
  ['.tiff', 'image/tiff'],
  ['.jpg', 'image/jpeg'],
  ['.jpeg', 'image/jpeg'],
  ['.png', 'image/png'],
  ['.xlsx', XLSX_MIMETYPE],
  // Beyond Tiled, which cannot register a single Parquet file.
  ['.parquet', PARQUET_MIMETYPE],
]);

/** Numbered files of these extensions in one folder are grouped into one sequence node (Tiled's patterns). */
export const SEQUENCE_PATTERNS: ReadonlyMap<string, { pattern: RegExp; mimetype: string }> = new Map([
  ['.tif', { pattern: /^(.*?)(\d+)\.(?:tif|tiff)$/, mimetype: 'multipart/related;type=image/tiff' }],
  ['.tiff', { pattern: /^(.*?)(\d+)\.(?:tif|tiff)$/, mimetype: 'multipart/related;type=image/tiff' }],
  // Tiled 0.2.16 names `.jpg` sequences `type=image/npy`, which no adapter reads; both spellings are JPEG here.
  ['.jpg', { pattern: /^(.*?)(\d+)\.(?:jpg|jpeg)$/, mimetype: 'multipart/related;type=image/jpeg' }],
  ['.jpeg', { pattern: /^(.*?)(\d+)\.(?:jpg|jpeg)$/, mimetype: 'multipart/related;type=image/jpeg' }],
  ['.npy', { pattern: /^(.*?)(\d+)\.npy$/, mimetype: 'multipart/related;type=application/x-npy' }],
]);

/** `text/csv; header=present` and `text/csv;header=present` are one mimetype. */
export function normalizeMimetype(mimetype: string): string {
  return mimetype
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)
    .join(';')
    .toLowerCase();
}

/** Python's `Path.suffixes`: the dotted parts after the first character of the name (`.tar`, `.gz`). */
export function suffixesOf(name: string): string[] {
  if (name.endsWith('.')) return [];
  const stem = name.replace(/^\.+/, '');
  const parts = stem.split('.');
  return parts.slice(1).map((p) => `.${p}`);
}

export interface AdapterRegistryOptions {
  /** Extra or overriding extension → mimetype pairs (`--ext`, `mimetypes_by_file_ext`). */
  mimetypesByFileExt?: ReadonlyMap<string, string>;
  /** Extra or overriding adapters (`--adapter`, `adapters_by_mimetype`). */
  adapters?: readonly AdapterRegistration[];
}

export class AdapterRegistry {
  private readonly byMimetype = new Map<string, AdapterRegistration>();
  private readonly byExtension = new Map<string, string>();

  constructor(builtins: readonly AdapterRegistration[], options: AdapterRegistryOptions = {}) {
    for (const [ext, mimetype] of DEFAULT_MIMETYPES_BY_FILE_EXT) this.byExtension.set(ext, normalizeMimetype(mimetype));
    for (const registration of [...builtins, ...(options.adapters ?? [])]) {
      this.byMimetype.set(normalizeMimetype(registration.mimetype), registration);
      for (const ext of registration.extensions) this.byExtension.set(ext.toLowerCase(), normalizeMimetype(registration.mimetype));
    }
    for (const [ext, mimetype] of options.mimetypesByFileExt ?? []) this.byExtension.set(ext.toLowerCase(), normalizeMimetype(mimetype));
  }

  /** The adapter for a mimetype, if any. */
  lookup(mimetype: string): AdapterRegistration | undefined {
    return this.byMimetype.get(normalizeMimetype(mimetype));
  }

  mimetypes(): string[] {
    return [...this.byMimetype.keys()].sort();
  }

  /**
   * A file or folder name's mimetype by its extension, trying compound suffixes longest first
   * (`.ome.tif` before `.tif`), as Tiled's `resolve_mimetype` does; undefined when none is known.
   */
  mimetypeOf(name: string): string | undefined {
    const suffixes = suffixesOf(name);
    for (let i = 0; i < suffixes.length; i++) {
      const found = this.byExtension.get(suffixes.slice(i).join('').toLowerCase());
      if (found) return found;
    }
    return undefined;
  }
}

/** The registry of the built-in adapters with any overrides. */
export function createAdapterRegistry(options: AdapterRegistryOptions = {}): AdapterRegistry {
  return new AdapterRegistry(BUILTIN_ADAPTERS, options);
}

/** A configuration or command-line mistake about adapters; the message names where it was written. */
export class AdapterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterConfigError';
  }
}

const OPTION_PATTERN = /^\s*([^=]+?)\s*=\s*(\S.*?)\s*$/;

/** `--ext '.tif=image/tiff'` → ['.tif', 'image/tiff']. */
export function parseExtOption(text: string): [string, string] {
  const match = OPTION_PATTERN.exec(text);
  if (!match || !match[1].startsWith('.') || !match[2].includes('/')) {
    throw new AdapterConfigError(`--ext "${text}": expected '.ext=mimetype', e.g. '.tif=image/tiff' (with the leading dot)`);
  }
  return [match[1], match[2]];
}

/** `--adapter 'text/x-foo=./foo.js:openFoo'` → ['text/x-foo', './foo.js:openFoo']. */
export function parseAdapterOption(text: string): [string, string] {
  const match = OPTION_PATTERN.exec(text);
  if (!match || !match[1].includes('/')) {
    throw new AdapterConfigError(`--adapter "${text}": expected 'mimetype=module:export', e.g. 'text/x-foo=./foo-adapter.js:openFoo'`);
  }
  return [match[1], match[2]];
}


export interface AdapterSpecLocation {
  /** Where the spec was written, for messages: `--adapter` or `trees[0].args.adapters_by_mimetype` + file. */
  where: string;
  /** Relative module paths resolve against this directory (the config file's, or the working directory). */
  baseDir: string;
}

/**
 * Load a third-party adapter named `module:export` (export defaults to `default`). The export is either an
 * adapter function `(source) => Promise<TreeNode>` or an object with an `open` function (an AdapterRegistration).
 */
export async function loadAdapter(mimetype: string, spec: unknown, location: AdapterSpecLocation): Promise<AdapterRegistration> {
  const fail = (what: string): never => {
    throw new AdapterConfigError(`Cannot load the adapter for "${mimetype}" (${location.where}): ${what}`);
  };
  if (typeof spec !== 'string' || !spec.trim()) return fail(`expected a string 'module:export', got ${JSON.stringify(spec)}`);
  if (!mimetype.includes('/')) return fail(`"${mimetype}" is not a mimetype such as text/x-foo`);
  // A Tiled configuration names Tiled's own Python adapters (`tiled.adapters.csv:read_csv`): the built-in
  // adapter of that mimetype stands in for them, so the file needs no edit.
  if (spec.startsWith('tiled.')) {
    const builtin = BUILTIN_ADAPTERS.find((r) => normalizeMimetype(r.mimetype) === normalizeMimetype(mimetype));
    if (builtin) return { ...builtin, mimetype };
    return fail(`"${spec}" is one of Tiled's Python adapters and tiled-ts has no built-in adapter for ${mimetype}; built-in: ${BUILTIN_ADAPTERS.map((r) => r.mimetype).join(', ')}`);
  }
  const colon = spec.lastIndexOf(':');
  const moduleSpec = colon > 0 ? spec.slice(0, colon) : spec;
  const exportName = colon > 0 ? spec.slice(colon + 1) : 'default';
  let file: string;
  if (moduleSpec.startsWith('.') || isAbsolute(moduleSpec)) {
    file = resolve(location.baseDir, moduleSpec);
    if (!existsSync(file)) fail(`file ${file} not found. Relative paths resolve against ${location.baseDir}`);
  } else {
    try {
      file = require.resolve(moduleSpec, { paths: [location.baseDir] });
    } catch {
      return fail(`package "${moduleSpec}" not found from ${location.baseDir}. Install it or use a relative path such as ./adapter.js:${exportName}`);
    }
  }
  let exports: Record<string, unknown>;
  try {
    exports = await dynamicImport(pathToFileURL(file).href);
  } catch (error) {
    return fail(`${file} failed to load: ${error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error)}`);
  }
  let value = exports[exportName];
  if (value === undefined && exports.default && typeof exports.default === 'object') value = (exports.default as Record<string, unknown>)[exportName];
  if (typeof value === 'function') {
    return { mimetype, extensions: [], open: value as AdapterFactory };
  }
  if (value && typeof value === 'object' && typeof (value as { open?: unknown }).open === 'function') {
    const registration = value as AdapterRegistration;
    return { ...registration, mimetype, extensions: Array.isArray(registration.extensions) ? registration.extensions : [] };
  }
  const names = Object.keys(exports).filter((n) => n !== 'module.exports');
  return fail(
    `${file} export "${exportName}" is ${value === undefined ? 'missing' : `a ${typeof value}`}; expected an adapter function (source) => node or an object with open(source) (exports: ${names.join(', ') || 'nothing'})`,
  );
}

/** Load every `mimetype: 'module:export'` pair of an `adapters_by_mimetype` mapping; all problems in one error. */
export async function loadAdapters(
  mapping: unknown,
  location: { keyPath: string; file?: string; baseDir: string },
): Promise<AdapterRegistration[]> {
  const inFile = location.file ? ` in ${location.file}` : '';
  if (mapping === undefined || mapping === null) return [];
  if (typeof mapping !== 'object' || Array.isArray(mapping)) {
    throw new AdapterConfigError(`${location.keyPath}${inFile}: expected a mapping of mimetype to 'module:export', e.g. {text/x-foo: ./foo.js:openFoo}`);
  }
  const loaded: AdapterRegistration[] = [];
  const problems: string[] = [];
  for (const [mimetype, spec] of Object.entries(mapping as Record<string, unknown>)) {
    try {
      loaded.push(await loadAdapter(mimetype, spec, { where: `${location.keyPath}["${mimetype}"]${inFile}`, baseDir: location.baseDir }));
    } catch (error) {
      if (!(error instanceof AdapterConfigError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length) throw new AdapterConfigError(problems.join('\n'));
  return loaded;
}
