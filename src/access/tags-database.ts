import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { openSqlite, SqliteDatabase } from './sqlite';

/** A tags-database URI that cannot be used; the message says which and how Tiled spells it. */
export class TagsDatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TagsDatabaseError';
  }
}

/**
 * The file named by `tags_db.uri`, spelled as Tiled's `AccessTagsParser.from_uri` accepts it:
 * `file:path`, `sqlite:///path`, `sqlite+aiosqlite:///path` (a `?query` is dropped: the file is always
 * opened read-only). A relative path is looked up from the working directory, as Tiled does, then from
 * the config file's directory.
 */
export function tagsDatabaseFile(uri: string, baseDir: string): string {
  let rest = uri.startsWith('file:') ? uri.slice('file:'.length) : uri;
  if (/^sqlite(\+[a-z0-9]+)?:/.test(rest)) {
    const after = rest.slice(rest.indexOf(':') + 1);
    if (!after.startsWith('///')) throw new TagsDatabaseError(`tags_db.uri "${uri}": a SQLite URI needs three slashes, e.g. "sqlite:///compiled_tags.sqlite"`);
    rest = after.slice(3);
  } else if (/^[a-z][a-z0-9+]*:\/\//.test(rest)) {
    throw new TagsDatabaseError(`tags_db.uri "${uri}": the tags database must be a SQLite file ("file:compiled_tags.sqlite" or "sqlite:///compiled_tags.sqlite")`);
  }
  const path = rest.split('?')[0];
  if (path === '' || path === ':memory:') throw new TagsDatabaseError(`tags_db.uri "${uri}" names no file`);
  if (isAbsolute(path)) return path;
  const fromCwd = resolve(path);
  return existsSync(fromCwd) ? fromCwd : resolve(baseDir, path);
}

/**
 * Everything the tag-based policy asks, read from the three views Tiled's AccessTagsCompiler creates
 * (`public_tags`, `user_tag_scopes`, `user_tag_owners`) and `tags`. The file is small and changes only when
 * an operator recompiles it, so it is held in memory: a request costs no database round trip. A newer file
 * (by modification time, checked at most once a second) is read again on the next question.
 */
export class TagsDatabase {
  private snapshot!: Snapshot;
  private checkedAt = 0;
  private loadedMtime = 0;

  constructor(readonly file: string) {
    if (!existsSync(file)) throw new TagsDatabaseError(`tags database ${file} does not exist (compile one with \`tiled admin compile-tags TAGS_YAML ${file}\`)`);
    this.reload();
  }

  private reload(): void {
    let db: SqliteDatabase;
    try {
      db = openSqlite(this.file, { readonly: true, fileMustExist: true });
    } catch (error) {
      throw new TagsDatabaseError(`tags database ${this.file} cannot be opened: ${messageOf(error)}`);
    }
    try {
      const defined = new Set((db.prepare('SELECT name FROM tags').all() as { name: string }[]).map((r) => r.name));
      const publicTags = new Set((db.prepare('SELECT name FROM public_tags').all() as { name: string }[]).map((r) => r.name));
      const scopes = new Map<string, Map<string, Set<string>>>();
      for (const row of db.prepare('SELECT user_name, tag_name, scope_name FROM user_tag_scopes').all() as { user_name: string; tag_name: string; scope_name: string }[]) {
        let byTag = scopes.get(row.user_name);
        if (!byTag) scopes.set(row.user_name, (byTag = new Map()));
        let set = byTag.get(row.tag_name);
        if (!set) byTag.set(row.tag_name, (set = new Set()));
        set.add(row.scope_name);
      }
      const owners = new Set(
        (db.prepare('SELECT user_name, tag_name FROM user_tag_owners').all() as { user_name: string; tag_name: string }[]).map((r) => ownerKey(r.user_name, r.tag_name)),
      );
      this.snapshot = { defined, publicTags, scopes, owners };
      this.loadedMtime = statSync(this.file).mtimeMs;
    } catch (error) {
      throw new TagsDatabaseError(`tags database ${this.file} is not one Tiled's AccessTagsCompiler wrote: ${messageOf(error)}`);
    } finally {
      db.close();
    }
  }

  private current(): Snapshot {
    const now = Date.now();
    if (now - this.checkedAt > 1000) {
      this.checkedAt = now;
      try {
        if (statSync(this.file).mtimeMs !== this.loadedMtime) this.reload();
      } catch {
        // A file being replaced: keep answering from the last good copy.
      }
    }
    return this.snapshot;
  }

  isTagDefined(tag: string): boolean {
    return this.current().defined.has(tag);
  }

  isTagPublic(tag: string): boolean {
    return this.current().publicTags.has(tag);
  }

  publicTags(): ReadonlySet<string> {
    return this.current().publicTags;
  }

  scopesFromTag(tag: string, user: string): ReadonlySet<string> {
    return this.current().scopes.get(user)?.get(tag) ?? EMPTY;
  }

  isTagOwner(tag: string, user: string): boolean {
    return this.current().owners.has(ownerKey(user, tag));
  }

  /** Tags on which `user` holds `scope` (Tiled's `get_tags_from_scope`). */
  tagsFromScope(scope: string, user: string): Set<string> {
    const out = new Set<string>();
    for (const [tag, scopes] of this.current().scopes.get(user) ?? []) if (scopes.has(scope)) out.add(tag);
    return out;
  }
}

interface Snapshot {
  defined: Set<string>;
  publicTags: Set<string>;
  /** user → tag → scopes. */
  scopes: Map<string, Map<string, Set<string>>>;
  owners: Set<string>;
}

const EMPTY: ReadonlySet<string> = new Set();

function ownerKey(user: string, tag: string): string {
  return `${user}\u0000${tag}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
