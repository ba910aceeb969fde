/**
 * `tiled register`'s work, shared with `tiled serve directory`: walk a folder with the adapter registry and
 * register every entry in a catalog over HTTP (`POST /register/…`, containers with `POST /metadata/…`), as
 * Tiled 0.2.16's `tiled.client.register` does. With `watch`, the folder is walked again every second and
 * what was added, changed (its mtime or size) or removed is registered, re-registered or deleted.
 */
import { basename, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import type { AdapterRegistry } from '../adapters/registry';
import type { WalkEntry } from '../adapters/directory';
import { toJson } from '../common/http/wire';

export interface RegisterOptions {
  /** The server's API base, ending in `/api/v1/`. */
  apiUri: string;
  /** Catalog path the folder is registered under (the URI's path plus `--prefix`). */
  prefix: readonly string[];
  apiKey?: string;
  registry: AdapterRegistry;
  keepExt?: boolean;
  includeExt?: readonly string[];
  /** Follow symbolic links that point outside the folder (the catalog must list their targets as readable). */
  allowSymlinksOutside?: boolean;
  /** Progress lines (`--verbose`); problems are always reported through `warn`. */
  log: (line: string) => void;
  warn: (line: string) => void;
}

/** Answered with an HTTP error: the status and Tiled's `detail`. */
export class RegisterHttpError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

/** The server could not be reached: no file can be registered, so the whole run stops. */
export class RegisterConnectionError extends Error {
  readonly code: string | undefined;

  constructor(cause: unknown) {
    const code = (cause as { cause?: { code?: string } })?.cause?.code;
    super(code === 'ECONNREFUSED' ? 'connection refused' : code ?? (cause instanceof Error ? cause.message : String(cause)));
    this.code = code;
  }
}

const WATCH_INTERVAL_MS = 1000;
/** Registrations in flight at once. */
const REGISTER_CONCURRENCY = 8;

/** What became of one entry in a pass: registered anew, already there as it is, or refused (warned about). */
type Outcome = 'changed' | 'kept' | 'failed';

function pathText(segments: readonly string[]): string {
  return segments.map(encodeURIComponent).join('/');
}

export class FolderRegistrar {
  /** What is registered: catalog path → the walk's stamp of it. */
  private readonly registered = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private pass?: Promise<number>;

  constructor(
    private readonly dir: string,
    private readonly options: RegisterOptions,
  ) {}

  private async request(method: string, route: string, segments: readonly string[], body?: unknown, query = ''): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.apiKey) headers.authorization = `Apikey ${this.options.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.options.apiUri}${route}/${pathText(segments)}${query}`, { method, headers, body: body === undefined ? undefined : toJson(body) });
    } catch (error) {
      throw new RegisterConnectionError(error);
    }
    const text = await response.text();
    if (!response.ok) {
      let detail = text;
      try {
        const parsed = JSON.parse(text) as { detail?: unknown };
        detail = typeof parsed.detail === 'string' ? parsed.detail : JSON.stringify(parsed.detail ?? parsed);
      } catch {
        // not JSON: keep the text
      }
      throw new RegisterHttpError(response.status, detail);
    }
    return text ? JSON.parse(text) : null;
  }

  /** A container at `segments` (the last one is its key), kept if it exists already (then false). */
  private async ensureContainer(segments: readonly string[]): Promise<boolean> {
    try {
      await this.request('POST', 'metadata', segments.slice(0, -1), { structure_family: 'container', metadata: {}, specs: [], id: segments[segments.length - 1] });
      return true;
    } catch (error) {
      if (!(error instanceof RegisterHttpError && error.status === 409)) throw error;
      return false;
    }
  }

  /** Register one walk entry; false when it was there already (a container kept as it is). */
  private async registerEntry(entry: WalkEntry, segments: readonly string[]): Promise<boolean> {
    if (entry.mimetype === null) return this.ensureContainer(segments);
    const registration = this.options.registry.lookup(entry.mimetype);
    if (!registration) throw new RegisterHttpError(415, `No adapter for ${entry.mimetype}`);
    // Opened here for its metadata (HDF5 attributes, …), which the catalog stores as the node's own.
    const node = await registration.open({ paths: entry.paths, mimetype: entry.mimetype });
    const many = entry.paths.length > 1;
    await this.request('POST', 'register', segments.slice(0, -1), {
      id: segments[segments.length - 1],
      structure_family: node.family,
      metadata: node.metadata ?? {},
      specs: node.specs ?? [],
      data_sources: [
        {
          structure_family: node.family,
          structure: null,
          mimetype: entry.mimetype,
          parameters: {},
          properties: {},
          management: 'external',
          assets: entry.paths.map((path, i) => ({ data_uri: pathToFileURL(path).href, is_directory: entry.directory, parameter: many ? 'data_uris' : 'data_uri', num: many ? i : null })),
        },
      ],
    });
    return true;
  }

  /**
   * Registers a new or changed walk entry (a changed file is deleted and registered again). A refusal is
   * warned about and the pass goes on; a lost connection or refused credentials are thrown, ending it.
   */
  private async registerChanged(key: string, entry: WalkEntry, segments: readonly string[]): Promise<Outcome> {
    const before = this.registered.get(key);
    if (before !== undefined && entry.mimetype !== null) await this.remove(segments);
    let outcome: Outcome = 'kept';
    try {
      if (await this.registerEntry(entry, segments)) {
        this.options.log(`${before === undefined ? 'Registered' : 'Re-registered'} /${key}${entry.mimetype ? ` (${entry.mimetype})` : ''}`);
        outcome = 'changed';
      }
    } catch (error) {
      if (error instanceof RegisterHttpError && error.status === 409 && before === undefined) {
        this.options.log(`Already registered: /${key}`);
      } else if (error instanceof RegisterConnectionError || (error instanceof RegisterHttpError && (error.status === 401 || (error.status === 403 && /scope|authenticat|credential/i.test(error.message))))) {
        throw error;
      } else {
        const file = relative(this.dir, entry.paths[0]) || basename(entry.paths[0]);
        const message = error instanceof Error ? error.message : String(error);
        // Adapters name the file in some messages and not in others; the line names it once.
        this.options.warn(`Cannot register /${key}: ${message.startsWith(`${file}: `) ? message : `${file}: ${message}`}`);
        return 'failed';
      }
    }
    this.registered.set(key, entry.stamp);
    return outcome;
  }

  private async remove(segments: readonly string[]): Promise<void> {
    try {
      await this.request('DELETE', 'metadata', segments, undefined, '?recursive=true&external_only=true');
    } catch (error) {
      if (!(error instanceof RegisterHttpError && error.status === 404)) throw error;
    }
  }

  private async walk(): Promise<Map<string, { entry: WalkEntry; segments: string[] }>> {
    const { walkDirectory } = await import('../adapters/directory');
    const found = new Map<string, { entry: WalkEntry; segments: string[] }>();
    const walk = walkDirectory(this.dir, {
      registry: this.options.registry,
      keepExt: this.options.keepExt,
      includeExt: this.options.includeExt,
      allowSymlinksOutside: this.options.allowSymlinksOutside,
      logger: { log: (m: unknown) => this.options.log(String(m)), warn: (m: unknown) => this.options.warn(String(m)) },
    });
    for await (const entry of walk) {
      const segments = [...this.options.prefix, ...entry.segments];
      found.set(segments.join('/'), { entry, segments });
    }
    return found;
  }

  /** One pass: register what is new or changed, delete what is gone. Returns how many nodes changed. */
  sync(): Promise<number> {
    // Passes never overlap: a slow pass delays the next tick instead of racing it.
    this.pass = (this.pass ?? Promise.resolve(0)).catch(() => 0).then(() => this.syncOnce());
    return this.pass;
  }

  private async syncOnce(): Promise<number> {
    if (this.registered.size === 0) {
      for (let i = 1; i <= this.options.prefix.length; i++) await this.ensureContainer(this.options.prefix.slice(0, i));
    }
    const found = await this.walk();
    let changes = 0;
    // Removed first (deepest first), so a file replaced by a folder of the same key can be registered.
    const gone = [...this.registered.keys()].filter((k) => !found.has(k)).sort((a, b) => b.length - a.length);
    const goneKeys = new Set(gone);
    for (const key of gone) {
      // Inside a removed folder: the folder's recursive delete takes it.
      const parts = key.split('/');
      if (parts.slice(1).some((_, i) => goneKeys.has(parts.slice(0, i + 1).join('/')))) {
        this.registered.delete(key);
        continue;
      }
      await this.remove(key.split('/'));
      this.registered.delete(key);
      this.options.log(`Removed /${key}`);
      changes += 1;
    }
    // Folders are registered side by side, a few registrations at a time (a remote server's round trips
    // overlap); within a folder, one after the other in the walk's order, which is the order the catalog
    // lists them in. A folder comes before anything in it (the walk lists a container before its
    // contents), and nothing in a folder that could not be registered is tried.
    const limit = pLimit(REGISTER_CONCURRENCY);
    const pending = new Map<string, Promise<Outcome>>();
    const lastInFolder = new Map<string, Promise<Outcome>>();
    let fatal: unknown;
    const registerInTurn = async (key: string, entry: WalkEntry, segments: string[], folder: string, previous: Promise<Outcome> | undefined): Promise<Outcome> => {
      await previous;
      const parent = pending.get(folder);
      if (parent && (await parent) === 'failed') return 'failed';
      return limit(async () => {
        if (fatal !== undefined) return 'failed';
        try {
          return await this.registerChanged(key, entry, segments);
        } catch (error) {
          fatal ??= error;
          return 'failed';
        }
      });
    };
    for (const [key, { entry, segments }] of found) {
      if (this.registered.get(key) === entry.stamp) continue;
      const folder = segments.slice(0, -1).join('/');
      const registered = registerInTurn(key, entry, segments, folder, lastInFolder.get(folder));
      pending.set(key, registered);
      lastInFolder.set(folder, registered);
    }
    const outcomes = await Promise.all(pending.values());
    if (fatal !== undefined) throw fatal;
    changes += outcomes.filter((outcome) => outcome === 'changed').length;
    return changes;
  }

  /** Walk again every second until `close()`. */
  watch(): void {
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.sync()
          .catch((error: unknown) => this.options.warn(`Watching ${this.dir}: ${error instanceof Error ? error.message : String(error)}`))
          .finally(() => {
            if (this.timer) tick();
          });
      }, WATCH_INTERVAL_MS);
    };
    tick();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
