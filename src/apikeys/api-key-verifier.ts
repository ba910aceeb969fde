import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import type { ApiKeyVerifier } from './api-key-verifier.interface';
import type { ApiKeyEntity } from '../database/entities';
import { ApiKeyActivityRecorder } from './api-key-activity';
import type { RecentKeyUse } from '../principals/recent-key-use';
import type { PlainLogger } from '../common/logging/plain-logger';
import { CredentialCache, CachedCredential } from '../common/revocation/credential-cache';
import { LiveCredentialProbe } from '../common/revocation/live-credential-probe';
import type { RevocationBus, RevocationListener } from '../common/revocation/revocation-bus';
import { effectiveKeyScopes } from './api-key-scopes';
import { hashPresentedSecret } from './api-key-secret';
import { ApiKeyStore, toOwner } from './api-key.store';
import { splitKeyPath } from './dto/create-api-key.dto';

/**
 * The `API_KEY_VERIFIER` of multi-user mode, on every request that presents a key.
 * Hot path: hash, cache hit, expiry check, and a primary-key read confirming the key is not revoked
 * (LiveCredentialProbe), so a revoke by any process sharing the database holds from its answer on.
 * Revocation by this process also evicts at once; other processes' revocations also arrive through the
 * revocation bus (PostgreSQL). Role changes made in the database reach cached keys within the TTL.
 */
export class ApiKeyVerifierService implements ApiKeyVerifier, OnModuleInit, OnModuleDestroy {
  private readonly activity: ApiKeyActivityRecorder;
  private readonly probe: LiveCredentialProbe;
  private listener: RevocationListener | undefined;

  constructor(
    private readonly store: ApiKeyStore,
    private readonly cache: CredentialCache<AuthContext>,
    private readonly bus: RevocationBus,
    private readonly logger: PlainLogger,
    recentUse?: RecentKeyUse,
  ) {
    this.activity = new ApiKeyActivityRecorder((keyId, at) => this.store.recordActivity(keyId, at), logger, undefined, recentUse);
    this.probe = new LiveCredentialProbe(store.dataSource);
  }

  /** A key's `latest_activity` as listings show it: the stored value, or this process's later use of it. */
  latestActivity(keyId: number, stored: Date | null): Date | null {
    return this.activity.recent.latest(keyId, stored);
  }

  async onModuleInit(): Promise<void> {
    // Nest may run the hook for the class and for its API_KEY_VERIFIER alias; one listener is enough.
    if (this.listener) return;
    this.listener = {
      evict: (hashedSecret) => this.cache.evictHash(hashedSecret),
      setAvailable: (available) => this.cache.setEnabled(available),
    };
    await this.bus.subscribe(this.listener);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.listener) await this.bus.unsubscribe(this.listener);
  }

  async verify(secret: string): Promise<AuthContext | null> {
    const entry = await this.lookup(secret);
    if (!entry) return null;
    this.activity.touch(entry.keyId, Date.now());
    return entry.context;
  }

  /** Same checks as `verify`, without counting as activity (Tiled does not for `GET /auth/apikey`). */
  async lookup(secret: string): Promise<CachedCredential<AuthContext> | null> {
    const hashedSecret = hashPresentedSecret(secret);
    if (!hashedSecret) return null;
    const now = Date.now();
    const cached = this.cache.get(hashedSecret, now);
    if (cached) {
      if (await this.probe.apiKeyLive(cached.keyId)) return cached;
      this.cache.evictHash(hashedSecret);
      return null;
    }

    const generation = this.cache.generation;
    const row = await this.store.findByHash(hashedSecret);
    const entry = row ? this.entryFor(row, hashedSecret, Date.now()) : null;
    if (entry) this.cache.store(hashedSecret, entry, generation);
    return entry;
  }

  /** Evict before answering the revoke, then tell the other processes. */
  async announceRevocation(hashedSecret: string): Promise<void> {
    this.cache.evictHash(hashedSecret);
    try {
      await this.bus.publish(hashedSecret);
    } catch (error) {
      this.logger.error(`Could not announce an API-key revocation to other processes: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Role changes of a principal (made by this process) must reach its keys at once. */
  principalChanged(principalId: number): void {
    this.cache.evictPrincipal(principalId);
  }

  private entryFor(row: ApiKeyEntity, hashedSecret: string, now: number): CachedCredential<AuthContext> | null {
    if (row.revokedAt !== null) return null;
    const expiresAt = row.expirationTime ? row.expirationTime.getTime() : null;
    if (expiresAt !== null && expiresAt <= now) return null;
    if (!row.principal) return null;
    const owner = toOwner(row.principal);
    const context: AuthContext = Object.freeze({
      principal: Object.freeze({ uuid: owner.uuid, type: owner.type, identities: owner.identities }),
      scopes: effectiveKeyScopes(row.scopes, owner.roleScopes),
      via: 'apikey',
      apiKeyHash: Buffer.from(hashedSecret, 'hex'),
      apiKeyFirstEight: row.firstEight,
      accessTags: row.accessTags === null ? null : Object.freeze(new Set(row.accessTags)),
      ...(row.path ? { keyPath: Object.freeze(splitKeyPath(row.path)) } : {}),
    }) as AuthContext;
    return { keyId: row.id, principalId: owner.id, expiresAt, context, loadedAt: now };
  }
}
