import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AuthnError, AuthnErrorCode } from './authn.errors';
import { underCapLock } from '../database/capped-insert';
import { SessionEntity } from '../database/entities';
import type { Identity } from '../plugins-api';
import { normalizeUuid, PrincipalsService } from '../principals/principals.service';
import { AccessClaims, TokenService } from './token.service';
import { SessionAccessService } from './session-access';
import type { JsonSchema } from '../common/validation/openapi-schema';

export const TOKEN_SERVICE = Symbol('TokenService');

/** Tiled's token response (captured in 02-login-token.txt); the password route and external logins return the same body. */
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_token_expires_in: number;
  token_type: 'bearer';
  identity: { id: string; provider: string };
  /** Principal uuid, 32 hex. */
  principal: string;
}

export type RefreshResponse = Omit<TokenResponse, 'identity' | 'principal'>;

/** `RefreshResponse` as a schema (Tiled's `AccessAndRefreshTokens`). */
export const REFRESH_RESPONSE_SCHEMA: JsonSchema = {
  title: 'AccessAndRefreshTokens',
  type: 'object',
  properties: {
    access_token: { type: 'string' },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string' },
    refresh_token_expires_in: { type: 'integer' },
    token_type: { type: 'string', enum: ['bearer'] },
  },
  required: ['access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in', 'token_type'],
};

/** `TokenResponse` as a schema: the tokens of a new session, and who logged in. */
export const TOKEN_RESPONSE_SCHEMA: JsonSchema = {
  title: 'Tokens',
  type: 'object',
  properties: {
    ...(REFRESH_RESPONSE_SCHEMA.properties as object),
    identity: { type: 'object', properties: { id: { type: 'string' }, provider: { type: 'string' } }, required: ['id', 'provider'] },
    principal: { type: 'string', description: 'The principal\'s uuid, 32 hex digits' },
  },
  required: [...(REFRESH_RESPONSE_SCHEMA.required as string[]), 'identity', 'principal'],
};

/** Tiled's limit per principal; counts live sessions only (not revoked, not expired). */
export const MAX_SESSIONS_PER_PRINCIPAL = 200;
/** A refresh token replaced less than this long ago is a concurrent duplicate, not a replay. */
export const REFRESH_REUSE_GRACE_MS = 5000;
const SESSION_EXPIRED = 'Session has expired. Please re-authenticate.';

const hex = (uuid: string): string => uuid.replace(/-/g, '');

/** Sessions, and the tokens that stand for them. */
@Injectable()
export class SessionsService {
  private readonly logger = new Logger('Sessions');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    private readonly principals: PrincipalsService,
    private readonly access: SessionAccessService,
  ) {}

  /**
   * A successful login by any provider: find or create the principal and identity, open a session, mint tokens.
   * The OAuth/OIDC routes call this too, so every login path answers with the same body.
   */
  async loginWithIdentity(provider: string, identity: Identity): Promise<TokenResponse> {
    if (!identity.id) throw new AuthnError(AuthnErrorCode.incorrect_credentials, 'Incorrect username or password', { 'www-authenticate': 'Bearer' });
    const principal = await this.principals.getOrCreateUser(provider, identity.id);
    const now = new Date();
    await this.principals.touchLogin(provider, identity.id, now);
    const jti = newTokenId();
    // Counted and inserted as one step, so parallel logins cannot overshoot the cap; only sessions that
    // still work count (revoked and expired ones are history, deleted by housekeeping).
    const created = await underCapLock(this.dataSource, `sessions:${principal.id}`, async (manager) => {
      const repo = manager.getRepository(SessionEntity);
      const live = await repo
        .createQueryBuilder('s')
        .where('s.principal_id = :principalId AND s.revoked = :revoked AND s.expiration_time > :now', { principalId: principal.id, revoked: false, now: now.getTime() })
        .getCount();
      if (live >= MAX_SESSIONS_PER_PRINCIPAL) return { live };
      const session = await repo.save(
        repo.create({
          uuid: randomUUID(),
          timeLastRefreshed: null,
          refreshCount: 0,
          expirationTime: new Date(now.getTime() + this.config.authentication.session_max_age * 1000),
          principalId: principal.id,
          revoked: false,
          state: identity.state ?? {},
          refreshTokenId: jti,
          previousRefreshTokenId: null,
          refreshTokenRotatedAt: null,
          timeCreated: now,
        }),
      );
      return { session };
    });
    if (!created.session) {
      throw new AuthnError(
        AuthnErrorCode.session_limit_reached,
        `This Principal already has ${created.live} sessions which is greater than or equal to the maximum number allowed, ${MAX_SESSIONS_PER_PRINCIPAL}. Some Sessions must be closed before creating new ones.`,
      );
    }
    const { session } = created;
    this.logger.log(`Login: ${provider}:${identity.id} (session ${hex(session.uuid).slice(0, 8)}…)`);
    const pair = await this.mintPair(session, jti);
    return { ...pair, identity: { id: identity.id, provider }, principal: hex(principal.uuid) };
  }

  /**
   * Exchange a refresh token for a new pair. Refresh tokens rotate: only the newest works; an older one
   * (a stolen copy, or the legitimate client after the thief refreshed) revokes the whole session.
   */
  async refresh(refreshToken: string): Promise<RefreshResponse> {
    const verified = await this.tokens.verifyRefresh(refreshToken);
    if (!verified.ok) throw tokenError(verified.reason);
    const { sid, jti } = verified.claims;
    const repo = this.dataSource.getRepository(SessionEntity);
    const session = await repo.findOneBy({ uuid: normalizeUuid(sid) ?? '' });
    const now = new Date();
    if (!session || session.revoked || session.expirationTime <= now) throw new AuthnError(AuthnErrorCode.session_expired, SESSION_EXPIRED);

    if (session.refreshTokenId === jti) {
      const next = newTokenId();
      const result = await repo
        .createQueryBuilder()
        .update(SessionEntity)
        .set({
          refreshTokenId: next,
          previousRefreshTokenId: jti,
          refreshTokenRotatedAt: now,
          timeLastRefreshed: now,
          refreshCount: () => 'refresh_count + 1',
        })
        .where('id = :id AND refresh_token_id = :jti AND revoked = :revoked', { id: session.id, jti, revoked: false })
        .execute();
      if (result.affected === 1) return this.mintPair(session, next);
      // Lost a race with a concurrent refresh of the same token: fall through to the grace check.
      const current = await repo.findOneBy({ id: session.id });
      if (!current || current.revoked) throw new AuthnError(AuthnErrorCode.session_expired, SESSION_EXPIRED);
      return this.duplicateOrReplay(current, jti, now);
    }
    return this.duplicateOrReplay(session, jti, now);
  }

  private async duplicateOrReplay(session: SessionEntity, jti: string, now: Date): Promise<RefreshResponse> {
    const rotatedAt = session.refreshTokenRotatedAt?.getTime() ?? 0;
    if (session.previousRefreshTokenId === jti && now.getTime() - rotatedAt < REFRESH_REUSE_GRACE_MS && session.refreshTokenId) {
      return this.mintPair(session, session.refreshTokenId);
    }
    await this.revokeSession(session);
    this.logger.warn(`Refresh token reuse on session ${hex(session.uuid).slice(0, 8)}…: session revoked`);
    throw new AuthnError(AuthnErrorCode.session_expired, SESSION_EXPIRED);
  }

  /** `POST /auth/session/revoke`: the refresh token is the proof. 409 for an unknown session, as Tiled. */
  async revokeByRefreshToken(refreshToken: string): Promise<void> {
    const verified = await this.tokens.verifyRefresh(refreshToken);
    if (!verified.ok) throw tokenError(verified.reason);
    const session = await this.dataSource.getRepository(SessionEntity).findOneBy({ uuid: normalizeUuid(verified.claims.sid) ?? '' });
    if (!session || session.expirationTime <= new Date()) throw new AuthnError(AuthnErrorCode.unknown_session, `No session ${verified.claims.sid}`);
    await this.revokeSession(session);
  }

  /** `DELETE /auth/session/revoke/{id}`: only the owner may; someone else's session looks like a missing one. */
  async revokeById(principalUuid: string, sessionId: string): Promise<void> {
    const uuid = normalizeUuid(sessionId);
    const session = uuid ? await this.dataSource.getRepository(SessionEntity).findOne({ where: { uuid }, relations: { principal: true } }) : null;
    if (!session) throw new AuthnError(AuthnErrorCode.session_not_found, `No session ${sessionId}`);
    if (session.principal.uuid !== normalizeUuid(principalUuid)) {
      throw new AuthnError(AuthnErrorCode.session_not_found, 'Sessions does not exist or requester has insufficient permissions');
    }
    await this.revokeSession(session);
  }

  /** Logout: revoke the session the caller names (refresh token) or is using (access token); unknown is fine. */
  async logout(refreshToken: string | undefined, accessSessionId: string | undefined): Promise<void> {
    let sid = accessSessionId;
    if (refreshToken) {
      const verified = await this.tokens.verifyRefresh(refreshToken);
      if (verified.ok) sid = verified.claims.sid;
    }
    const uuid = sid ? normalizeUuid(sid) : null;
    if (!uuid) return;
    const session = await this.dataSource.getRepository(SessionEntity).findOneBy({ uuid });
    if (session) await this.revokeSession(session);
  }

  private async revokeSession(session: SessionEntity): Promise<void> {
    await this.dataSource.getRepository(SessionEntity).update({ id: session.id }, { revoked: true, refreshTokenId: null, previousRefreshTokenId: null });
    // Its access tokens stop now, here and (on PostgreSQL) in every other process, not at their `exp`.
    await this.access.announceRevocation(hex(session.uuid));
  }

  private async mintPair(session: SessionEntity, jti: string): Promise<RefreshResponse> {
    const auth = this.config.authentication;
    const nowMs = Date.now();
    const sessionEnd = session.expirationTime.getTime();
    // Neither token outlives the session's hard limit.
    const accessExp = Math.min(nowMs + auth.access_token_max_age * 1000, sessionEnd);
    const refreshExp = Math.min(nowMs + auth.refresh_token_max_age * 1000, sessionEnd);
    const principal = await this.principals.findById(session.principalId);
    const ref = principal ? await this.principals.refOf(principal.id) : null;
    if (!principal || !ref) throw new AuthnError(AuthnErrorCode.session_expired, SESSION_EXPIRED);
    const claims: AccessClaims = {
      sub: hex(principal.uuid),
      sub_typ: principal.type,
      // Written for Tiled clients that read it; this server itself re-reads role scopes on every request.
      scp: [...(await this.principals.scopesOf(principal.id))],
      state: session.state ?? {},
      ids: ref.identities.map((i) => ({ id: i.id, idp: i.provider })),
      sid: hex(session.uuid),
      exp: Math.floor(accessExp / 1000),
      type: 'access',
    };
    const [access, refresh] = await Promise.all([
      this.tokens.sign(claims),
      this.tokens.sign({ type: 'refresh', sid: hex(session.uuid), jti, exp: Math.floor(refreshExp / 1000) }),
    ]);
    return {
      access_token: access,
      expires_in: auth.access_token_max_age,
      refresh_token: refresh,
      refresh_token_expires_in: auth.refresh_token_max_age,
      token_type: 'bearer',
    };
  }
}

function newTokenId(): string {
  return randomBytes(16).toString('hex');
}

function tokenError(reason: 'invalid' | 'expired'): AuthnError {
  return reason === 'expired'
    ? new AuthnError(AuthnErrorCode.session_expired, SESSION_EXPIRED)
    : new AuthnError(AuthnErrorCode.invalid_token, 'Could not validate credentials', { 'www-authenticate': 'Bearer' });
}
