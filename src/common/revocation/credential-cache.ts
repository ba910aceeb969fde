/**
 * What one successful database lookup of a credential (API key or session) established; enough to answer
 * later requests alone. `Context` is the caller's context as the authentication module defines it
 * (`AuthContext`): a parameter, so this lower layer does not import the module that uses it.
 */
export interface CachedCredential<Context = unknown> {
  keyId: number;
  principalId: number;
  /** Epoch ms, or null for a key that never expires. Checked on every request, cached or not. */
  expiresAt: number | null;
  /** The caller's context, built once: stored scopes intersected with the owner's role scopes at load time. */
  context: Context;
  /** Epoch ms of the database read this entry came from. */
  loadedAt: number;
}

export interface CredentialCacheOptions {
  /**
   * How long an entry is trusted before the database is asked again. Revocations by this process and
   * (on PostgreSQL) by other processes evict at once; the TTL bounds everything else: revocations by a
   * process that cannot notify us (SQLite shared by several servers) and role changes made in the database.
   */
  ttlMs: number;
  /** Upper bound on entries; the oldest are dropped first. */
  maxEntries: number;
}

export const DEFAULT_CACHE_OPTIONS: CredentialCacheOptions = { ttlMs: 2000, maxEntries: 10000 };

/**
 * In-process cache of credential lookups (API keys by the hex SHA-256 of the secret, sessions by id).
 * Correctness rule: a revoked credential must never be served. Every eviction bumps `generation`; a lookup that
 * started before an eviction must not store its (possibly stale) result, see `store`.
 */
export class CredentialCache<Context = unknown> {
  private readonly entries = new Map<string, CachedCredential<Context>>();
  private generationCounter = 0;
  /** False while cross-process eviction is unavailable (e.g. the LISTEN connection is down). */
  private enabled = true;

  constructor(private readonly options: CredentialCacheOptions = DEFAULT_CACHE_OPTIONS) {}

  get generation(): number {
    return this.generationCounter;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A usable entry, or undefined when absent, stale or past its key's expiry (then it is dropped). */
  get(hashedSecret: string, now: number): CachedCredential<Context> | undefined {
    const entry = this.entries.get(hashedSecret);
    if (!entry) return undefined;
    if (now - entry.loadedAt >= this.options.ttlMs || (entry.expiresAt !== null && entry.expiresAt <= now)) {
      this.entries.delete(hashedSecret);
      return undefined;
    }
    return entry;
  }

  /** Store a lookup that started at `generationAtStart`; refused if anything was evicted meanwhile. */
  store(hashedSecret: string, entry: CachedCredential<Context>, generationAtStart: number): void {
    if (!this.enabled || generationAtStart !== this.generationCounter) return;
    if (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(hashedSecret, entry);
  }

  evictHash(hashedSecret: string): void {
    this.generationCounter++;
    this.entries.delete(hashedSecret);
  }

  evictKeyId(keyId: number): void {
    this.generationCounter++;
    for (const [hashed, entry] of this.entries) if (entry.keyId === keyId) this.entries.delete(hashed);
  }

  /** Role changes of a principal affect every key it owns. */
  evictPrincipal(principalId: number): void {
    this.generationCounter++;
    for (const [hashed, entry] of this.entries) if (entry.principalId === principalId) this.entries.delete(hashed);
  }

  clear(): void {
    this.generationCounter++;
    this.entries.clear();
  }

  /** Turn caching off (and forget everything) while evictions from other processes could be missed. */
  setEnabled(enabled: boolean): void {
    if (!enabled) this.clear();
    this.enabled = enabled;
  }
}
