/**
 * `trees: [{path: /data, tree: directory, args: {directory: ./files, adapters_by_mimetype: {…}}}]`: a folder
 * served from a YAML configuration, with Tiled's `adapters_by_mimetype` and `mimetypes_by_file_ext` keys.
 */
import { resolve } from 'node:path';
import type { ContainerNode } from '../catalog/tree/tree.types';
import { DirectoryIndex } from './directory';
import { AdapterConfigError, createAdapterRegistry, loadAdapters } from './registry';

const KNOWN_ARGS = new Set(['directory', 'adapters_by_mimetype', 'mimetypes_by_file_ext', 'keep_ext', 'include_ext', 'watch', 'allow_symlinks_outside']);

export interface ArgsLocation {
  /** `trees[0].args` */
  keyPath: string;
  file?: string;
  /** Relative paths (the directory, adapter modules) resolve against the config file's directory. */
  baseDir: string;
}

/** Build the tree; every mistake is an AdapterConfigError naming the file, the key path and what was expected. */
export async function directoryTreeFromArgs(args: Record<string, unknown>, location: ArgsLocation): Promise<ContainerNode> {
  const inFile = location.file ? ` in ${location.file}` : '';
  const at = (key: string): string => `${location.keyPath}.${key}${inFile}`;
  const problems: string[] = [];
  for (const key of Object.keys(args)) if (!KNOWN_ARGS.has(key)) problems.push(`${at(key)}: unknown key; expected one of ${[...KNOWN_ARGS].join(', ')}`);
  const directory = args.directory;
  if (typeof directory !== 'string' || !directory) problems.push(`${at('directory')}: expected the path of the folder to serve`);
  const extMap = args.mimetypes_by_file_ext ?? {};
  const mimetypesByFileExt = new Map<string, string>();
  if (typeof extMap !== 'object' || extMap === null || Array.isArray(extMap)) {
    problems.push(`${at('mimetypes_by_file_ext')}: expected a mapping such as {.tif: image/tiff}`);
  } else {
    for (const [ext, mimetype] of Object.entries(extMap)) {
      if (!ext.startsWith('.') || typeof mimetype !== 'string' || !mimetype.includes('/')) {
        problems.push(`${at(`mimetypes_by_file_ext["${ext}"]`)}: expected '.ext: mimetype', e.g. '.tif: image/tiff'`);
      } else mimetypesByFileExt.set(ext, mimetype);
    }
  }
  const include = args.include_ext;
  if (include !== undefined && include !== null && (!Array.isArray(include) || !include.every((e) => typeof e === 'string' && e.startsWith('.')))) {
    problems.push(`${at('include_ext')}: expected a list of extensions with the leading dot, e.g. [.csv]`);
  }
  for (const flag of ['keep_ext', 'watch', 'allow_symlinks_outside']) {
    if (args[flag] !== undefined && args[flag] !== null && typeof args[flag] !== 'boolean') problems.push(`${at(flag)}: expected true or false`);
  }
  let adapters: Awaited<ReturnType<typeof loadAdapters>> = [];
  try {
    adapters = await loadAdapters(args.adapters_by_mimetype, { keyPath: `${location.keyPath}.adapters_by_mimetype`, file: location.file, baseDir: location.baseDir });
  } catch (error) {
    if (!(error instanceof AdapterConfigError)) throw error;
    problems.push(...error.message.split('\n'));
  }
  if (problems.length) throw new AdapterConfigError(problems.join('\n'));
  const index = new DirectoryIndex(resolve(location.baseDir, directory as string), {
    registry: createAdapterRegistry({ mimetypesByFileExt, adapters }),
    keepExt: args.keep_ext === true,
    includeExt: (include as string[] | undefined) ?? undefined,
    allowSymlinksOutside: args.allow_symlinks_outside === true,
  });
  try {
    await index.refresh();
  } catch (error) {
    throw new AdapterConfigError(`${at('directory')}: ${(error as Error).message}`);
  }
  if (args.watch === true) index.watch();
  return index.root;
}
