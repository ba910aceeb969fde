import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import { ALL_SCOPES } from '../auth/scopes';
import { openSqlite } from './sqlite';

/**
 * `tiled admin compile-tags`: Tiled 0.2.16's tag definitions (`roles`; `tags` with `users`, `groups`,
 * `auto_tags`; `tag_owners`) compiled into the SQLite schema Tiled's AccessTagsCompiler writes, so either
 * server can read the file. Unlike Tiled, every problem is collected (not only the first), and each names
 * its tag and user, group or role.
 */

/** Group name → member user names: what Tiled's compiler asks its `group_parser` callable. */
export type Groups = ReadonlyMap<string, readonly string[]>;

export interface CompiledTags {
  /** tag → user → scopes (public tags included, with their users). */
  tags: Map<string, Map<string, Set<string>>>;
  publicTags: Set<string>;
  owners: Map<string, Set<string>>;
  warnings: string[];
}

export class TagDefinitionError extends Error {
  constructor(readonly problems: string[]) {
    super(`The tag definitions have ${problems.length === 1 ? '1 problem' : `${problems.length} problems`}:\n  ${problems.join('\n  ')}`);
    this.name = 'TagDefinitionError';
  }
}

const PUBLIC = 'public';
const MAX_NESTING = 5;

type Member = { name?: unknown; role?: unknown; scopes?: unknown };

export function readGroups(file: string): Groups {
  const data = yaml.load(readFileSync(file, 'utf8'));
  const groups = new Map<string, string[]>();
  if (!isRecord(data)) throw new TagDefinitionError([`${file}: expected a mapping of group name to a list of user names`]);
  for (const [name, members] of Object.entries(data)) {
    if (!Array.isArray(members) || members.some((m) => typeof m !== 'string')) throw new TagDefinitionError([`${file}: group ${name}: expected a list of user names`]);
    groups.set(name, members as string[]);
  }
  return groups;
}

export function compileTagDefinitions(text: string, groups: Groups, validScopes: readonly string[] = ALL_SCOPES): CompiledTags {
  const problems: string[] = [];
  const warnings: string[] = [];
  const data = yaml.load(text);
  if (!isRecord(data) || !isRecord(data.tags)) throw new TagDefinitionError(['the file needs a "tags" mapping (and may have "roles" and "tag_owners")']);
  const valid = new Set(validScopes);
  const roles = new Map<string, string[]>();
  for (const [name, role] of Object.entries(isRecord(data.roles) ? data.roles : {})) {
    const scopes = isRecord(role) ? role.scopes : undefined;
    if (!Array.isArray(scopes)) problems.push(`role ${name}: scopes must be defined for a role`);
    else if (scopes.length === 0) problems.push(`role ${name}: scopes must not be empty`);
    else {
      const invalid = scopes.filter((s) => !valid.has(String(s)));
      if (invalid.length) problems.push(`role ${name}: invalid scopes ${invalid.join(', ')}`);
      roles.set(name, scopes.map(String));
    }
  }
  const definitions = new Map<string, Record<string, unknown>>(Object.entries(data.tags).map(([tag, def]) => [tag, isRecord(def) ? def : {}]));
  const adjacent = new Map<string, string[]>();
  for (const [tag, def] of definitions) {
    if (tag.toLowerCase() === PUBLIC) problems.push(`tag ${tag}: the 'public' tag cannot be redefined`);
    const autos: string[] = [];
    for (const auto of Array.isArray(def.auto_tags) ? def.auto_tags : []) {
      const name = isRecord(auto) ? String(auto.name) : String(auto);
      if (!definitions.has(name) && name.toLowerCase() !== PUBLIC) problems.push(`tag ${tag}: auto_tag ${name} has no definition`);
      autos.push(name);
    }
    adjacent.set(tag, autos);
  }

  /** A user's or group's scopes in one tag, or null after recording why not. */
  const scopesOf = (tag: string, kind: 'user' | 'group', member: Member): string[] | null => {
    const who = `${kind} ${String(member.name)}`;
    if (member.role !== undefined && member.scopes !== undefined) {
      problems.push(`tag ${tag}, ${who}: cannot define both 'scopes' and 'role'`);
      return null;
    }
    if (member.role === undefined && member.scopes === undefined) {
      problems.push(`tag ${tag}, ${who}: must define either 'scopes' or 'role'`);
      return null;
    }
    let scopes: string[];
    if (member.role !== undefined) {
      const role = roles.get(String(member.role));
      if (!role) {
        problems.push(`tag ${tag}, ${who}: role ${String(member.role)} is not defined`);
        return null;
      }
      scopes = role;
    } else {
      scopes = Array.isArray(member.scopes) ? member.scopes.map(String) : [];
    }
    if (scopes.length === 0) {
      problems.push(`tag ${tag}, ${who}: scopes must not be empty`);
      return null;
    }
    const invalid = scopes.filter((s) => !valid.has(s));
    if (invalid.length) {
      problems.push(`tag ${tag}, ${who}: invalid scopes ${invalid.join(', ')}`);
      return null;
    }
    return scopes;
  };

  const compiled = new Map<string, Map<string, Set<string>>>([[PUBLIC, new Map()]]);
  const publicTags = new Set<string>([PUBLIC]);
  const visit = (tag: string, seen: Set<string>, depth: number): { users: Map<string, Set<string>>; isPublic: boolean } => {
    const done = compiled.get(tag);
    if (done) return { users: done, isPublic: publicTags.has(tag) };
    if (seen.has(tag) || !definitions.has(tag)) return { users: new Map(), isPublic: false };
    if (depth > MAX_NESTING) {
      problems.push(`tag ${tag}: auto_tags nest deeper than ${MAX_NESTING} levels`);
      return { users: new Map(), isPublic: false };
    }
    seen.add(tag);
    const users = new Map<string, Set<string>>();
    let isPublic = false;
    const add = (user: string, scopes: readonly string[]): void => {
      let set = users.get(user);
      if (!set) users.set(user, (set = new Set()));
      for (const scope of scopes) set.add(scope);
    };
    for (const auto of adjacent.get(tag) ?? []) {
      if (auto.toLowerCase() === PUBLIC) {
        isPublic = true;
        continue;
      }
      const child = visit(auto, seen, depth + 1);
      isPublic ||= child.isPublic;
      for (const [user, scopes] of child.users) add(user, [...scopes]);
    }
    const def = definitions.get(tag)!;
    for (const user of Array.isArray(def.users) ? (def.users as Member[]) : []) {
      const scopes = scopesOf(tag, 'user', user);
      if (scopes) add(String(user.name), scopes);
    }
    for (const group of Array.isArray(def.groups) ? (def.groups as Member[]) : []) {
      const scopes = scopesOf(tag, 'group', group);
      if (!scopes) continue;
      const members = groups.get(String(group.name));
      if (!members) {
        warnings.push(`tag ${tag}: group ${String(group.name)} does not exist - skipping`);
        continue;
      }
      for (const user of members) add(user, scopes);
    }
    if (isPublic) publicTags.add(tag);
    compiled.set(tag, users);
    return { users, isPublic };
  };
  for (const tag of definitions.keys()) visit(tag, new Set(), 0);

  const owners = new Map<string, Set<string>>();
  for (const [tag, def] of Object.entries(isRecord(data.tag_owners) ? data.tag_owners : {})) {
    const set = new Set<string>();
    owners.set(tag, set);
    if (!isRecord(def)) continue;
    for (const user of Array.isArray(def.users) ? (def.users as Member[]) : []) set.add(String(user.name));
    for (const group of Array.isArray(def.groups) ? (def.groups as Member[]) : []) {
      const members = groups.get(String(group.name));
      if (!members) warnings.push(`tag_owners ${tag}: group ${String(group.name)} does not exist - skipping`);
      else for (const user of members) set.add(user);
    }
  }
  if (problems.length) throw new TagDefinitionError(problems);
  return { tags: compiled, publicTags, owners, warnings };
}

/** Tiled's schema (tables, indexes and the three views the server reads), created if missing. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS tags (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, is_public INTEGER NOT NULL DEFAULT 0 CHECK (is_public IN (0,1)));
CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS scopes (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS tags_users_scopes (
  tag_id INTEGER NOT NULL REFERENCES tags(id) ON UPDATE CASCADE ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON UPDATE CASCADE ON DELETE CASCADE,
  scope_id INTEGER NOT NULL REFERENCES scopes(id) ON UPDATE CASCADE ON DELETE CASCADE,
  PRIMARY KEY (tag_id, user_id, scope_id));
CREATE TABLE IF NOT EXISTS tag_owners (
  tag_id INTEGER NOT NULL REFERENCES tags(id) ON UPDATE CASCADE ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON UPDATE CASCADE ON DELETE CASCADE,
  PRIMARY KEY (tag_id, user_id));
CREATE INDEX IF NOT EXISTS idx_tags_is_public ON tags (is_public);
CREATE INDEX IF NOT EXISTS idx_tus_users_scopes ON tags_users_scopes (user_id, scope_id);
CREATE INDEX IF NOT EXISTS idx_tus_users_scopes_scopeid ON tags_users_scopes (scope_id);
CREATE INDEX IF NOT EXISTS idx_tag_owners ON tag_owners (user_id);
CREATE VIEW IF NOT EXISTS public_tags AS SELECT name FROM tags WHERE is_public = 1;
CREATE VIEW IF NOT EXISTS user_tag_scopes AS
  SELECT u.name AS user_name, t.name AS tag_name, s.name AS scope_name
  FROM tags_users_scopes tus JOIN users u ON u.id = tus.user_id JOIN tags t ON t.id = tus.tag_id JOIN scopes s ON s.id = tus.scope_id;
CREATE VIEW IF NOT EXISTS user_tag_owners AS
  SELECT u.name AS user_name, t.name AS tag_name
  FROM tag_owners towner JOIN users u ON u.id = towner.user_id JOIN tags t ON t.id = towner.tag_id;
`;

/** Replace the database's content with `compiled`, in one transaction (a reader sees the old or the new, never half). */
export function writeTagsDatabase(file: string, compiled: CompiledTags, validScopes: readonly string[] = ALL_SCOPES): void {
  const db = openSqlite(file);
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;');
    db.exec(SCHEMA);
    db.transaction(() => {
      db.exec('DELETE FROM tags_users_scopes; DELETE FROM tag_owners; DELETE FROM tags; DELETE FROM users; DELETE FROM scopes;');
      const tagId = new Map<string, number>();
      const userId = new Map<string, number>();
      const scopeId = new Map<string, number>();
      const insertTag = db.prepare('INSERT INTO tags (id, name, is_public) VALUES (?, ?, ?)');
      for (const tag of new Set([...compiled.tags.keys(), ...compiled.owners.keys()])) {
        tagId.set(tag, tagId.size + 1);
        insertTag.run(tagId.size, tag, compiled.publicTags.has(tag) ? 1 : 0);
      }
      const insertUser = db.prepare('INSERT INTO users (id, name) VALUES (?, ?)');
      const users = new Set<string>();
      for (const byUser of compiled.tags.values()) for (const user of byUser.keys()) users.add(user);
      for (const owners of compiled.owners.values()) for (const user of owners) users.add(user);
      for (const user of users) {
        userId.set(user, userId.size + 1);
        insertUser.run(userId.size, user);
      }
      const insertScope = db.prepare('INSERT INTO scopes (id, name) VALUES (?, ?)');
      for (const scope of validScopes) {
        scopeId.set(scope, scopeId.size + 1);
        insertScope.run(scopeId.size, scope);
      }
      const grant = db.prepare('INSERT INTO tags_users_scopes (tag_id, user_id, scope_id) VALUES (?, ?, ?)');
      for (const [tag, byUser] of compiled.tags) for (const [user, scopes] of byUser) for (const scope of scopes) grant.run(tagId.get(tag), userId.get(user), scopeId.get(scope));
      const own = db.prepare('INSERT INTO tag_owners (tag_id, user_id) VALUES (?, ?)');
      for (const [tag, owners] of compiled.owners) for (const user of owners) own.run(tagId.get(tag), userId.get(user));
    })();
  } finally {
    db.close();
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
