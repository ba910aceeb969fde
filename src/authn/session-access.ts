import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { CredentialCache, CachedCredential, DEFAULT_CACHE_OPTIONS } from '../common/revocation/credential-cache';
import type { PlainLogger } from '../common/logging/plain-logger';
import { LiveCredentialProbe } from '../common/revocation/live-credential-probe';
import type { RevocationBus, RevocationListener } from '../common/revocation/revocation-bus';
import { SessionEntity } from '../database/entities';
import { normalizeUuid, PrincipalsService } from '../principals/principals.service';
import { RevokedSessions } from './revoked-sessions';

/**
 * Prefix of session revocations on the revocation channel shared with API keys. API-key payloads are 64 hex digits, so
 * the two never collide; each listener ignores (or harmlessly fails to find) the other's messages.
 */
export const SESSION_REVOCATION_PREFIX = 'session:';

export type SessionAccess = { ok: true; context: AuthContext } | { ok: false; reason: 'revoked' | 'invalid' };

/**
 * What a Bearer access token may do right now: its session must still be live, and its scopes are the
 * principal's current role scopes, not the `scp` frozen into the token when it was minted.
 *
 * Hot path: lookups are cached per session for the API-key cache's TTL (2 s), with the same cache class and
 * generation rule (a lookup racing an eviction is not stored); each cached use is confirmed by one
 * primary-key read (LiveCredentialProbe), so a session revoked by any process sharing the database is
 * refused from the moment the revoke answers. Revocation by this process also evicts at once, and other
 * processes hear of it on the process's one revocation bus (PostgreSQL LISTEN/NOTIFY), shared with API keys.
 * Role changes (made in the database; there is no HTTP API for them, as in Tiled) take effect within the TTL.
 */
export class SessionAccessService implements OnModuleInit, OnModuleDestroy {
  private listener: RevocationListener | undefined;
  private readonly probe: LiveCredentialProbe;

  constructor(
    private readonly dataSource: DataSource,
    private readonly principals: PrincipalsService,
    private readonly revoked: RevokedSessions,
    private readonly bus: RevocationBus,
    private readonly logger: PlainLogger,
    /** How long a revoked session is remembered locally: its last access token is dead by then. */
    private readonly accessTokenMaxAgeMs: number,
    private readonly cache: CredentialCache<AuthContext> = new CredentialCache<AuthContext>(DEFAULT_CACHE_OPTIONS),
  ) {
    this.probe = new LiveCredentialProbe(dataSource);
  }

  async onModuleInit(): Promise<void> {
    if (this.listener) return;
    this.listener = {
      evict: (payload) => {
        if (payload.startsWith(SESSION_REVOCATION_PREFIX)) this.forget(payload.slice(SESSION_REVOCATION_PREFIX.length));
      },
      setAvailable: (available) => this.cache.setEnabled(available),
    };
    await this.bus.subscribe(this.listener);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.listener) await this.bus.unsubscribe(this.listener);
  }

  /** `sessionHex` and `subjectHex` are the token's `sid` and `sub` claims (32 hex each). */
  async check(sessionHex: string, subjectHex: string): Promise<SessionAccess> {
    if (this.revoked.has(sessionHex)) return { ok: false, reason: 'revoked' };
    const now = Date.now();
    const cached = this.cache.get(sessionHex, now);
    if (cached) {
      if (await this.probe.sessionLive(cached.keyId)) return this.matching(cached, subjectHex);
      this.forget(sessionHex);
      return { ok: false, reason: 'revoked' };
    }

    const generation = this.cache.generation;
    const uuid = normalizeUuid(sessionHex);
    if (!uuid) return { ok: false, reason: 'invalid' };
    const session = await this.dataSource.getRepository(SessionEntity).findOneBy({ uuid });
    // A deleted session (housekeeping removes expired ones) is as dead as a revoked one.
    if (!session || session.revoked || session.expirationTime.getTime() <= Date.now()) {
      if (session?.revoked) this.revoked.add(sessionHex, Date.now() + this.accessTokenMaxAgeMs);
      return { ok: false, reason: 'revoked' };
    }
    const [ref, scopes] = await Promise.all([this.principals.refOf(session.principalId), this.principals.scopesOf(session.principalId)]);
    if (!ref) return { ok: false, reason: 'revoked' };
    const context = Object.freeze({
      principal: Object.freeze(ref),
      scopes,
      via: 'access-token',
      sessionId: sessionHex,
    }) as AuthContext;
    const entry: CachedCredential<AuthContext> = {
      keyId: session.id,
      principalId: session.principalId,
      expiresAt: session.expirationTime.getTime(),
      context,
      loadedAt: Date.now(),
    };
    this.cache.store(sessionHex, entry, generation);
    return this.matching(entry, subjectHex);
  }

  /** Called after the session row is marked revoked: this process stops its tokens now, the others on NOTIFY. */
  async announceRevocation(sessionHex: string): Promise<void> {
    this.forget(sessionHex);
    try {
      await this.bus.publish(`${SESSION_REVOCATION_PREFIX}${sessionHex}`);
    } catch (error) {
      this.logger.error(`Could not announce a session revocation to other processes: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private forget(sessionHex: string): void {
    this.revoked.add(sessionHex, Date.now() + this.accessTokenMaxAgeMs);
    this.cache.evictHash(sessionHex);
  }

  /** A token whose `sub` is not the session's principal was not minted by us for this session. */
  private matching(entry: CachedCredential<AuthContext>, subjectHex: string): SessionAccess {
    const principal = entry.context.principal;
    if (!principal || principal.uuid.replace(/-/g, '') !== subjectHex.toLowerCase()) return { ok: false, reason: 'invalid' };
    return { ok: true, context: entry.context };
  }
}
