import type { AuthContext } from '../../auth/auth-context';
import { CredentialCache, CachedCredential } from './credential-cache';

const entry = (keyId: number, loadedAt: number, expiresAt: number | null = null): CachedCredential => ({
  keyId,
  principalId: 1,
  expiresAt,
  loadedAt,
  context: { principal: null, scopes: new Set(), via: 'apikey' } as AuthContext,
});

describe(CredentialCache.name, () => {
  let sut: CredentialCache;
  beforeEach(() => {
    sut = new CredentialCache({ ttlMs: 1000, maxEntries: 2 });
  });

  it('should not store a lookup that raced with an eviction', () => {
    const generation = sut.generation;
    sut.evictHash('a');
    sut.store('a', entry(1, 0), generation);
    expect(sut.get('a', 0)).toBeUndefined();
  });

  it('should drop entries past their TTL or their key\'s expiry', () => {
    sut.store('a', entry(1, 0), sut.generation);
    sut.store('b', entry(2, 0, 500), sut.generation);
    expect(sut.get('a', 999)).toBeDefined();
    expect(sut.get('b', 500)).toBeUndefined();
    expect(sut.get('a', 1000)).toBeUndefined();
  });

  it('should serve nothing while disabled', () => {
    sut.store('a', entry(1, 0), sut.generation);
    sut.setEnabled(false);
    sut.store('a', entry(1, 0), sut.generation);
    expect(sut.get('a', 0)).toBeUndefined();
  });

  it('should stay within its size bound', () => {
    for (const [i, name] of ['a', 'b', 'c'].entries()) sut.store(name, entry(i, 0), sut.generation);
    expect(sut.size).toBe(2);
    expect(sut.get('a', 0)).toBeUndefined();
  });
});
