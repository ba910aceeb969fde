import { mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessCaller, AccessRefusedError, NO_ACCESS } from '../plugins-api';
import { openSqlite } from './sqlite';
import { TagBasedAccessPolicy } from './tag-based-policy';
import { TagsDatabase } from './tags-database';
import { compileTagDefinitions, writeTagsDatabase } from './tags-compiler';

/** Tiled's rules for creating and retagging nodes, and the corners of reading, on the tags database of docs/access-control.md. */
describe(TagBasedAccessPolicy.name, () => {
  let dir: string;
  let sut: TagBasedAccessPolicy;

  const user = (id: string, scopes: string[] = ['read:metadata', 'read:data', 'write:metadata', 'create:node'], accessTags: string[] | null = null): AccessCaller => ({
    principal: { uuid: `uuid-${id}`, type: 'user', identities: [{ id, provider: 'toy' }] },
    accessTags: accessTags ? new Set(accessTags) : null,
    scopes: new Set(scopes),
  });
  const admin = user('root', ['read:metadata', 'read:data', 'admin:apikeys']);
  const node = (accessBlob: Record<string, unknown> | undefined) => ({ path: ['x'], family: 'container', accessBlob });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-tags-'));
    const file = join(dir, 'tags.sqlite');
    const db = openSqlite(file);
    db.exec(readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', 'access', 'tiled-compiled-tags.sql'), 'utf8'));
    db.close();
    sut = new TagBasedAccessPolicy('toy', new TagsDatabase(file), null);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('initNode', () => {
    it('should make a node without tags the creator\'s own', async () => {
      expect(await sut.initNode(user('alice'), undefined)).toEqual({ modified: true, accessBlob: { user: 'alice' } });
    });

    it('should refuse a user-owned node to a key restricted by tags', async () => {
      await expect(sut.initNode(user('cara', undefined, ['data_A']), undefined)).rejects.toThrow(/does not permit action on user-owned nodes/);
    });

    it('should let a tag owner apply the tag, and nobody else', async () => {
      expect(await sut.initNode(user('cara'), { tags: ['data_admin'] })).toEqual({ modified: false, accessBlob: { tags: ['data_admin'] } });
      await expect(sut.initNode(user('alice'), { tags: ['data_B'] })).rejects.toThrow("Cannot apply tag to node: user='alice' is not an owner of tag='data_B'");
      await expect(sut.initNode(user('cara'), { tags: ['nope'] })).rejects.toThrow("tag='nope' is not defined");
    });

    it('should keep the public tag and empty tag lists for administrators', async () => {
      await expect(sut.initNode(user('cara'), { tags: ['public'] })).rejects.toBeInstanceOf(AccessRefusedError);
      await expect(sut.initNode(user('cara'), { tags: [] })).rejects.toThrow('only Tiled admins can apply an empty tag list');
      expect(await sut.initNode(admin, { tags: ['PUBLIC', 'data_B'] })).toEqual({ modified: true, accessBlob: { tags: ['public', 'data_B'] } });
    });

    it('should refuse a blob of another shape', async () => {
      await expect(sut.initNode(user('cara'), { user: 'bob' })).rejects.toThrow(`access_blob must be in the form '{"tags": ["tag1", "tag2", ...]}'`);
    });
  });

  describe('modifyNode', () => {
    it('should refuse to remove a tag its caller does not own, and allow an unchanged blob', async () => {
      await expect(sut.modifyNode(node({ tags: ['data_admin', 'data_B'] }), user('cara'), { tags: ['data_admin'] })).rejects.toThrow(
        "Cannot remove tag from node: user='cara' is not an owner of tag='data_B'",
      );
      expect(await sut.modifyNode(node({ tags: ['data_B'] }), user('eve'), { tags: ['data_B'] })).toEqual({ modified: false, accessBlob: { tags: ['data_B'] } });
    });
  });

  describe('allowedScopes and filters', () => {
    it('should grant an owner everything on its node, except through a key restricted by tags', async () => {
      expect((await sut.allowedScopes(node({ user: 'alice' }), user('alice'))).has('write:metadata')).toBe(true);
      expect((await sut.allowedScopes(node({ user: 'alice' }), user('alice', undefined, ['data_B']))).size).toBe(0);
    });

    it('should name service principals by their uuid and see nothing of tags they are not in', async () => {
      const service: AccessCaller = { principal: { uuid: 'svc-1', type: 'service', identities: [] }, accessTags: null, scopes: new Set(['read:metadata']) };
      expect(await sut.allowedScopes(node({ user: 'svc-1' }), service)).toEqual(new Set(await sut.allowedScopes(node(undefined), service)));
      expect(await sut.filters(node(undefined), service, new Set(['read:metadata']))).toEqual([{ type: 'access_blob_filter', user_id: 'svc-1', tags: ['data_D', 'public'] }]);
    });

    it('should filter with the tags granting every asked scope, public ones only for reading', async () => {
      expect(await sut.filters(node(undefined), user('eve'), new Set(['read:metadata', 'read:data']))).toEqual([
        { type: 'access_blob_filter', user_id: 'eve', tags: ['data_D', 'public'] },
      ]);
      expect(await sut.filters(node(undefined), user('cara'), new Set(['write:data']))).toEqual([
        { type: 'access_blob_filter', user_id: 'cara', tags: ['data_A', 'data_B', 'data_C', 'data_D', 'data_admin'] },
      ]);
      expect(await sut.filters(node(undefined), admin, new Set(['read:metadata']))).toEqual([]);
    });

    it('should hide everything when asked for a scope outside the policy\'s scopes', async () => {
      const narrow = new TagBasedAccessPolicy('toy', new TagsDatabase(join(dir, 'tags.sqlite')), ['read:metadata']);
      expect(await narrow.filters(node(undefined), user('alice'), new Set(['read:data']))).toBe(NO_ACCESS);
    });
  });

  describe('a recompiled tags database', () => {
    it('should be read again without a restart', async () => {
      const file = join(dir, 'live.sqlite');
      writeTagsDatabase(file, compileTagDefinitions('tags: {old_tag: {users: [{name: alice, scopes: [read:metadata]}]}}', new Map()));
      const tags = new TagsDatabase(file);
      expect(tags.isTagDefined('old_tag')).toBe(true);
      writeTagsDatabase(file, compileTagDefinitions('tags: {new_tag: {users: [{name: alice, scopes: [read:metadata]}]}}', new Map()));
      const later = new Date(Date.now() + 5000);
      utimesSync(file, later, later);
      const deadline = Date.now() + 5000;
      while (tags.isTagDefined('old_tag') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect([tags.isTagDefined('old_tag'), tags.isTagDefined('new_tag'), [...tags.scopesFromTag('new_tag', 'alice')]]).toEqual([false, true, ['read:metadata']]);
    });
  });
});
