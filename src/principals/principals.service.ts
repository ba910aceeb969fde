import { randomUUID } from 'node:crypto';
import { Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { UnprocessableError } from '../common/errors/tiled-http.error';
import { PrincipalError, PrincipalErrorCode } from './principal.errors';
import { ApiKeyEntity, IdentityEntity, PrincipalEntity, RoleEntity, SessionEntity } from '../database/entities';
import type { PrincipalJson, PrincipalRef } from './principal.dto';
import { toApiKeyResponse } from './api-key-response.dto';
import { RecentKeyUse } from './recent-key-use';

export type { PrincipalJson } from './principal.dto';

/** `1c2d…` (32 hex) or hyphenated → lower-case hyphenated; null when it is not a UUID at all. */
export function normalizeUuid(value: string): string | null {
  const hex = value.trim().toLowerCase().replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  if (value.includes('-') && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value.trim())) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Principals, their roles and identities. Scopes always come from the roles in the database, never from a cache. */
@Injectable()
export class PrincipalsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Optional() private readonly recentKeyUse?: RecentKeyUse,
  ) {}

  /** Union of the scopes of every role the principal holds (empty for an unknown principal). */
  async scopesOf(principalId: number): Promise<Set<string>> {
    const roles = await this.rolesOf(this.dataSource.manager, principalId);
    return new Set(roles.flatMap((role) => role.scopes));
  }

  async findById(principalId: number): Promise<PrincipalEntity | null> {
    return this.dataSource.getRepository(PrincipalEntity).findOneBy({ id: principalId });
  }

  /** Accepts the hyphenated or the 32-hex spelling; null when malformed or unknown. */
  async findByUuid(uuid: string): Promise<PrincipalEntity | null> {
    const normalized = normalizeUuid(uuid);
    if (!normalized) return null;
    return this.dataSource.getRepository(PrincipalEntity).findOneBy({ uuid: normalized });
  }

  /** A service principal holding exactly one role; 422 naming the role when it does not exist. */
  async createService(roleName: string): Promise<PrincipalEntity> {
    return this.dataSource.transaction(async (manager) => {
      const role = await manager.getRepository(RoleEntity).findOneBy({ name: roleName });
      if (!role) {
        throw UnprocessableError.of(['query', 'role'], `Role '${roleName}' does not exist`, 'value_error', roleName);
      }
      const principal = await this.insertPrincipal(manager, 'service');
      await this.addRole(manager, principal.id, role.id);
      return principal;
    });
  }

  /**
   * The principal an identity logs in as, created (type user, role `user`) on first sight.
   * Two concurrent first logins race on the identity's primary key; the loser re-reads the winner's row.
   */
  async getOrCreateUser(provider: string, id: string, manager: EntityManager = this.dataSource.manager): Promise<PrincipalEntity> {
    const existing = await this.principalOfIdentity(manager, provider, id);
    if (existing) return existing;
    try {
      return await manager.transaction(async (tx) => {
        const principal = await this.insertPrincipal(tx, 'user');
        const userRole = await tx.getRepository(RoleEntity).findOneByOrFail({ name: 'user' });
        await this.addRole(tx, principal.id, userRole.id);
        await tx.getRepository(IdentityEntity).insert({ id, provider, principalId: principal.id, latestLogin: null, timeCreated: new Date() });
        return principal;
      });
    } catch (error) {
      const winner = await this.principalOfIdentity(manager, provider, id);
      if (winner) return winner;
      throw error;
    }
  }

  async touchLogin(provider: string, id: string, when: Date = new Date()): Promise<void> {
    await this.dataSource.getRepository(IdentityEntity).update({ provider, id }, { latestLogin: when });
  }

  /** `tiled_admins`: give the identity's principal the `admin` role (keeping `user`), creating it if needed. Never removes. */
  async makeAdmin(provider: string, id: string): Promise<void> {
    const principal = await this.getOrCreateUser(provider, id);
    const admin = await this.dataSource.getRepository(RoleEntity).findOneByOrFail({ name: 'admin' });
    const roles = await this.rolesOf(this.dataSource.manager, principal.id);
    if (!roles.some((role) => role.id === admin.id)) await this.addRole(this.dataSource.manager, principal.id, admin.id);
  }

  /** What the AuthContext carries about a principal. */
  async refOf(principalId: number): Promise<PrincipalRef | null> {
    const principal = await this.findById(principalId);
    if (!principal) return null;
    const identities = await this.dataSource.getRepository(IdentityEntity).find({ where: { principalId }, order: { timeCreated: 'ASC' } });
    return { uuid: principal.uuid, type: principal.type, identities: identities.map((i) => ({ id: i.id, provider: i.provider })) };
  }

  async list(offset: number, limit: number): Promise<PrincipalJson[]> {
    const principals = await this.dataSource.getRepository(PrincipalEntity).find({ order: { id: 'ASC' }, skip: offset, take: limit });
    return Promise.all(principals.map((p) => this.describeEntity(p)));
  }

  /** Tiled's Principal JSON (as 08-admin-principals.txt shows it). Throws NotFound when the principal is gone. */
  async describe(principalId: number): Promise<PrincipalJson> {
    const principal = await this.findById(principalId);
    if (!principal) throw new PrincipalError(PrincipalErrorCode.principal_gone, 'Principal no longer exists.');
    return this.describeEntity(principal);
  }

  private async describeEntity(principal: PrincipalEntity): Promise<PrincipalJson> {
    const manager = this.dataSource.manager;
    const [identities, roles, storedKeys, sessions] = await Promise.all([
      manager.getRepository(IdentityEntity).find({ where: { principalId: principal.id }, order: { timeCreated: 'ASC' } }),
      this.rolesOf(manager, principal.id),
      // Revoked keys are kept for audit only. Unlike Tiled, expired keys vanish from lists at once too (filtered below).
      manager.getRepository(ApiKeyEntity).find({ where: { principalId: principal.id, revokedAt: IsNull() }, order: { id: 'ASC' } }),
      manager.getRepository(SessionEntity).find({ where: { principalId: principal.id }, order: { id: 'ASC' } }),
    ]);
    const now = Date.now();
    const keys = this.withRecentUse(storedKeys.filter((key) => key.expirationTime === null || key.expirationTime.getTime() > now));
    const activity = [
      ...identities.map((i) => i.latestLogin),
      ...sessions.map((s) => s.timeLastRefreshed),
      ...keys.map((k) => k.latestActivity),
    ].filter((d): d is Date => d instanceof Date);
    return {
      uuid: principal.uuid,
      type: principal.type,
      identities: identities.map((i) => ({ id: i.id, provider: i.provider, latest_login: i.latestLogin })),
      roles: roles.map((r) => ({ name: r.name, scopes: r.scopes })),
      api_keys: keys.map(toApiKeyResponse),
      sessions: sessions.map((s) => ({ uuid: s.uuid, expiration_time: s.expirationTime, revoked: s.revoked, state: s.state ?? {} })),
      latest_activity: activity.length ? new Date(Math.max(...activity.map((d) => d.getTime()))) : null,
    };
  }

  /** Keys used on this process since their last (throttled) activity write show that use (docs/api-keys-server.md). */
  private withRecentUse(keys: ApiKeyEntity[]): ApiKeyEntity[] {
    const recent = this.recentKeyUse;
    if (!recent) return keys;
    for (const key of keys) key.latestActivity = recent.latest(key.id, key.latestActivity);
    return keys;
  }

  private async rolesOf(manager: EntityManager, principalId: number): Promise<RoleEntity[]> {
    return manager
      .getRepository(RoleEntity)
      .createQueryBuilder('role')
      .innerJoin('principal_role_association', 'pra', 'pra.role_id = role.id')
      .where('pra.principal_id = :principalId', { principalId })
      .orderBy('role.id', 'ASC')
      .getMany();
  }

  private async principalOfIdentity(manager: EntityManager, provider: string, id: string): Promise<PrincipalEntity | null> {
    const identity = await manager.getRepository(IdentityEntity).findOneBy({ provider, id });
    return identity ? manager.getRepository(PrincipalEntity).findOneBy({ id: identity.principalId }) : null;
  }

  private async insertPrincipal(manager: EntityManager, type: 'user' | 'service'): Promise<PrincipalEntity> {
    const repo = manager.getRepository(PrincipalEntity);
    const principal = repo.create({ uuid: randomUUID(), type, timeCreated: new Date() });
    return repo.save(principal);
  }

  private async addRole(manager: EntityManager, principalId: number, roleId: number): Promise<void> {
    await manager.createQueryBuilder().relation(PrincipalEntity, 'roles').of(principalId).add(roleId);
  }
}

