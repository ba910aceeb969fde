import { existsSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AppConfig, TreeMountConfig } from '../../config/app-config';
import { ConfigError } from '../../config/config-loader';
import { demoTree } from './demo-tree';
import { GENERATED_MINIMAL_TREES, generatedMinimalTree } from './generated-minimal';
import { isDType } from './dtype';
import type { ContainerNode, TreeNode } from './tree.types';
import { dynamicImport } from '../../common/esm';


/** Why a value is not a usable tree node, or null when it is. */
export function treeProblem(value: unknown): string | null {
  if (!value || typeof value !== 'object') return `expected an object with a 'family', got ${value === null ? 'null' : typeof value}`;
  const node = value as Record<string, unknown>;
  if (!node.metadata || typeof node.metadata !== 'object') return "it has no 'metadata' object";
  switch (node.family) {
    case 'container':
      return typeof node.keys === 'function' && typeof node.get === 'function' ? null : "a container needs keys() and get(key) methods";
    case 'array': {
      if (!isDType(node.dtype)) return `an array needs a dtype such as 'float64', got ${JSON.stringify(node.dtype)}`;
      const shape = node.shape;
      const chunks = node.chunks;
      if (!Array.isArray(shape) || !shape.every((n) => Number.isInteger(n) && n >= 0)) return 'an array needs a shape of non-negative integers';
      if (!Array.isArray(chunks) || chunks.length !== shape.length) return 'an array needs one chunk list per dimension';
      const bad = chunks.findIndex((c, d) => !Array.isArray(c) || c.reduce((a: number, b: number) => a + b, 0) !== shape[d]);
      if (bad >= 0) return `the chunks of dimension ${bad} do not add up to its length ${shape[bad]}`;
      return typeof node.readBlock === 'function' ? null : 'an array needs a readBlock(block) method';
    }
    case 'table':
      return Array.isArray(node.columns) && Number.isInteger(node.npartitions) && typeof node.readPartition === 'function'
        ? null
        : 'a table needs columns, npartitions and a readPartition(index) method';
    default:
      return `'family' must be 'container', 'array' or 'table', got ${JSON.stringify(node.family)}`;
  }
}

/** The writable catalog, by its tiled-ts name and Tiled's spellings of it. */
const CATALOG_TREES: ReadonlySet<string> = new Set(['catalog', 'tiled.catalog:from_uri', 'tiled.catalog.adapter:from_uri']);

function where(config: AppConfig, index: number): string {
  const file = config.source ? `in ${config.source}` : 'from the command line';
  return `trees[${index}].tree ${file}`;
}

async function loadModule(mount: TreeMountConfig, label: string): Promise<{ exports: Record<string, unknown>; file: string; exportName: string }> {
  const colon = mount.tree.lastIndexOf(':');
  const moduleSpec = colon > 0 ? mount.tree.slice(0, colon) : mount.tree;
  const exportName = colon > 0 ? mount.tree.slice(colon + 1) : 'default';
  const isPath = moduleSpec.startsWith('.') || isAbsolute(moduleSpec);
  let file: string;
  if (isPath) {
    file = resolve(mount.baseDir, moduleSpec);
    if (!existsSync(file)) {
      throw new ConfigError(
        `Cannot load tree "${mount.tree}" (${label}): file ${file} not found. Relative paths resolve against ${mount.baseDir}; check the path.`,
      );
    }
    if (extname(file) === '.ts') {
      throw new ConfigError(`Cannot load tree "${mount.tree}" (${label}): ${file} is TypeScript; compile it and name the .js file.`);
    }
  } else {
    try {
      file = require.resolve(moduleSpec, { paths: [mount.baseDir] });
    } catch {
      throw new ConfigError(
        `Cannot load tree "${mount.tree}" (${label}): package "${moduleSpec}" not found from ${mount.baseDir}. Install it next to the config or use a relative path such as ./tree.js:${exportName}.`,
      );
    }
  }
  try {
    return { exports: await dynamicImport(pathToFileURL(file).href), file, exportName };
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error);
    throw new ConfigError(`Cannot load tree "${mount.tree}" (${label}): ${file} failed to load: ${reason}`);
  }
}

async function resolveOne(config: AppConfig, index: number): Promise<TreeNode> {
  const mount = config.trees[index];
  if (mount.tree === 'demo') return demoTree();
  if (GENERATED_MINIMAL_TREES.has(mount.tree)) return generatedMinimalTree();
  const label = where(config, index);
  if (mount.tree === 'directory') return directoryMount(config, index);
  if (CATALOG_TREES.has(mount.tree)) {
    // Loaded only for a catalog: TypeORM and the database drivers are not part of every server's start.
    const [{ catalogFromArgs }, { CatalogDatabaseError }] = await Promise.all([import('../writable/catalog-tree'), import('../writable/catalog-database')]);
    try {
      return (await catalogFromArgs({ ...(mount.args ?? {}) }, mount.baseDir)).root;
    } catch (error) {
      if (error instanceof CatalogDatabaseError) {
        const where = mount.fromCatalogSection ? label.replace(/^trees\[\d+\]\.tree /, 'catalog ') : label.replace(/\.tree /, '.args ');
        throw new ConfigError(`${where}: ${error.message}`);
      }
      throw error;
    }
  }
  const { exports, file, exportName } = await loadModule(mount, label);
  let value: unknown = exports[exportName];
  // A CommonJS module imported as ESM puts `module.exports` under `default`.
  if (value === undefined && exports.default && typeof exports.default === 'object') value = (exports.default as Record<string, unknown>)[exportName];
  if (value === undefined) {
    const names = Object.keys(exports).filter((n) => n !== 'module.exports');
    throw new ConfigError(
      `Cannot load tree "${mount.tree}" (${label}): ${file} has no export "${exportName}" (it exports: ${names.join(', ') || 'nothing'}). Name an export after the colon, e.g. ${mount.tree.split(':')[0]}:tree.`,
    );
  }
  if (typeof value === 'function') {
    try {
      value = await (value as (args: Record<string, unknown>) => unknown)({ ...(mount.args ?? {}) });
    } catch (error) {
      throw new ConfigError(`Cannot load tree "${mount.tree}" (${label}): calling ${exportName}(args) failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const problem = treeProblem(value);
  if (problem) throw new ConfigError(`Tree "${mount.tree}" (${label}) is not a tree: ${problem}. Export a node (see docs/catalog.md) or a function returning one.`);
  return value as TreeNode;
}

/** `tree: directory`: a folder of files served through the adapter registry (docs/files.md). */
async function directoryMount(config: AppConfig, index: number): Promise<TreeNode> {
  // The adapters and their libraries are loaded only when a configuration serves a folder.
  const { directoryTreeFromArgs } = await import('../../adapters/directory-config');
  const { AdapterConfigError } = await import('../../adapters/registry');
  const mount = config.trees[index];
  try {
    return await directoryTreeFromArgs({ ...(mount.args ?? {}) }, { keyPath: `trees[${index}].args`, file: config.source, baseDir: mount.baseDir });
  } catch (error) {
    if (error instanceof AdapterConfigError) throw new ConfigError(error.message, error.message.split('\n'));
    throw error;
  }
}

function segments(path: string): string[] {
  return path.split('/').filter(Boolean);
}

class MountDir {
  readonly children = new Map<string, MountDir | TreeNode>();
}

function asContainer(dir: MountDir): ContainerNode {
  const children = new Map<string, TreeNode>();
  for (const [key, child] of dir.children) children.set(key, child instanceof MountDir ? asContainer(child) : child);
  const keys = [...children.keys()];
  return { family: 'container', metadata: {}, specs: [], keys: () => keys, get: (key) => children.get(key) };
}

/**
 * Resolve `trees[]` into one root: a single tree at '/' is the root; several trees are mounted at their
 * paths under a synthetic root container. Any failure is a ConfigError, raised before the server listens.
 */
export async function resolveTrees(config: AppConfig): Promise<TreeNode> {
  try {
    return await mountTrees(config);
  } catch (error) {
    // Nest logs a failing provider with its stack before createApp() rejects; for a configuration
    // mistake the frames only bury the one line that says what to fix.
    if (error instanceof ConfigError) error.stack = `${error.name}: ${error.message}`;
    throw error;
  }
}

async function mountTrees(config: AppConfig): Promise<TreeNode> {
  if (config.trees.length === 0) {
    const file = config.source ? ` in ${config.source}` : '';
    throw new ConfigError(`trees${file}: expected at least one tree, e.g. trees: [{path: /, tree: demo}]`);
  }
  const nodes: TreeNode[] = [];
  for (let i = 0; i < config.trees.length; i++) nodes.push(await resolveOne(config, i));
  const atRoot = config.trees.findIndex((t) => segments(t.path).length === 0);
  if (atRoot >= 0) {
    if (config.trees.length > 1) {
      throw new ConfigError(`trees[${atRoot}].path${config.source ? ` in ${config.source}` : ''}: a tree served at '/' must be the only tree; give it a sub-path such as /data`);
    }
    return nodes[0];
  }
  const root = new MountDir();
  config.trees.forEach((mount, i) => {
    const parts = segments(mount.path);
    let dir = root;
    for (const [j, part] of parts.entries()) {
      const existing = dir.children.get(part);
      const last = j === parts.length - 1;
      if (last) {
        if (existing) throw new ConfigError(`trees[${i}].path${config.source ? ` in ${config.source}` : ''}: "${mount.path}" overlaps another tree's path`);
        dir.children.set(part, nodes[i]);
      } else if (!existing) {
        const next = new MountDir();
        dir.children.set(part, next);
        dir = next;
      } else if (existing instanceof MountDir) {
        dir = existing;
      } else {
        throw new ConfigError(`trees[${i}].path${config.source ? ` in ${config.source}` : ''}: "${mount.path}" is inside another tree's path`);
      }
    }
  });
  return asContainer(root);
}
