import { AllowAllPolicy } from '../../access/allow-all-policy';
import { ForbiddenError } from '../../common/errors/tiled-http.error';
import { ALL_ACCESS, AccessPolicy, AccessRefusedError } from '../../plugins-api';
import type { TreeNode } from '../tree/tree.types';
import { NodeAccessService, RequestAccess } from './node-access';

/** The blob decisions of writes: without a policy Tiled's fixed answers, with one the policy's, its refusals as 403. */
describe(NodeAccessService.name, () => {
  const boundKey: RequestAccess = { caller: { principal: null, accessTags: null, scopes: new Set(['create:node']) }, keyPath: ['b'], who: 'test' };
  const node = { family: 'container' } as TreeNode;

  describe('without a policy (allow-all), even for a key bound to a subtree', () => {
    const sut = new NodeAccessService(new AllowAllPolicy());

    it('creates every node with {} and says so only when the request asked for another blob', async () => {
      await expect(sut.initBlob(boundKey, null)).resolves.toEqual({ modified: false, accessBlob: {} });
      await expect(sut.initBlob(boundKey, {})).resolves.toEqual({ modified: false, accessBlob: {} });
      await expect(sut.initBlob(boundKey, { tags: ['x'] })).resolves.toEqual({ modified: true, accessBlob: {} });
    });

    it('keeps the stored blob on updates and echoes it when another was asked for', async () => {
      await expect(sut.modifyBlob(boundKey, node, ['b'], { user: 'a' }, undefined)).resolves.toEqual({ modified: false, accessBlob: { user: 'a' } });
      await expect(sut.modifyBlob(boundKey, node, ['b'], { user: 'a' }, { tags: ['x'] })).resolves.toEqual({ modified: true, accessBlob: { user: 'a' } });
    });
  });

  describe('with a policy', () => {
    const refusing = (error: Error): AccessPolicy => ({
      allowedScopes: async () => new Set(),
      filters: async () => ALL_ACCESS,
      initNode: async () => {
        throw error;
      },
      modifyNode: async () => {
        throw error;
      },
    });

    it("answers a policy's refusal with Tiled's 403, by the error's name (a plugin may bundle its own copy of the API)", async () => {
      const copy = Object.assign(new Error('no tags for you'), { name: 'AccessRefusedError' });
      for (const error of [new AccessRefusedError('no tags for you'), copy]) {
        const sut = new NodeAccessService(refusing(error));
        const refusal = await sut.initBlob(boundKey, { tags: ['x'] }).catch((e: unknown) => e);
        expect(refusal).toBeInstanceOf(ForbiddenError);
        expect((refusal as ForbiddenError).detail).toBe('Access policy rejects the provided access blob.\nno tags for you');
        await expect(sut.modifyBlob(boundKey, node, ['b'], {}, { tags: ['x'] })).rejects.toBeInstanceOf(ForbiddenError);
      }
    });

    it("lets any other failure of a policy through (a bug is not the caller's 403), and rejects a blob that is not an object", async () => {
      const sut = new NodeAccessService(refusing(new TypeError('bug')));
      await expect(sut.initBlob(boundKey, { tags: ['x'] })).rejects.toBeInstanceOf(TypeError);
      await expect(sut.initBlob(boundKey, ['x'])).rejects.toMatchObject({ status: 422 });
      // An unchanged blob never reaches modifyNode.
      await expect(sut.modifyBlob(boundKey, node, ['b'], { user: 'a' }, { user: 'a' })).resolves.toEqual({ modified: false, accessBlob: { user: 'a' } });
    });
  });
});
