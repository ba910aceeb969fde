import { DataSource, EntityManager, QueryFailedError, Repository } from 'typeorm';
import { underCapLock } from '../database/capped-insert';
import { ApiKeyEntity, PrincipalEntity, RoleEntity } from '../database/entities';

/** A principal as the key rules need it: internal id, public ref and the union of its role scopes. */
export interface KeyOwner {
  id: number;
  uuid: string;
  type: 'user' | 'service';
  identities: { id: string; provider: string }[];
  roleScopes: Set<string>;
}

export interface NewKeyRow {
  firstEight: string;
  hashedSecret: string;
  expirationTime: Date | null;
  note: string | null;
  scopes: string[];
  accessTags: string[] | null;
  path: string | null;
  principalId: number;
  timeCreated: Date;
}

/** All database I/O of the API-keys module, so the rules in the services can be read (and tested) apart from SQL. */
export class ApiKeyStore {
  private readonly keys: Repository<ApiKeyEntity>;
  private readonly principals: Repository<PrincipalEntity>;
  private readonly roles: Repository<RoleEntity>;

  constructor(readonly dataSource: DataSource) {
    this.keys = dataSource.getRepository(ApiKeyEntity);
    this.principals = dataSource.getRepository(PrincipalEntity);
    this.roles = dataSource.getRepository(RoleEntity);
  }

  /** The key row with its owner, roles and identities: everything verification needs, in one query. */
  findByHash(hashedSecret: string): Promise<ApiKeyEntity | null> {
    return this.keys.findOne({
      where: { hashedSecret },
      relations: { principal: { roles: true, identities: true } },
    });
  }

  findActiveByFirstEight(principalId: number, firstEight: string, now: Date): Promise<ApiKeyEntity | null> {
    return this.keys
      .createQueryBuilder('k')
      .where('k.principal_id = :principalId AND k.first_eight = :firstEight AND k.revoked_at IS NULL', { principalId, firstEight })
      .andWhere('(k.expiration_time IS NULL OR k.expiration_time > :now)', { now: now.getTime() })
      .getOne();
  }

  countActive(principalId: number, now: Date, manager: EntityManager = this.dataSource.manager): Promise<number> {
    return manager
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.principal_id = :principalId AND k.revoked_at IS NULL', { principalId })
      .andWhere('(k.expiration_time IS NULL OR k.expiration_time > :now)', { now: now.getTime() })
      .getCount();
  }

  /**
   * Counts the owner's working keys and inserts `draw()`'s row only while fewer than `cap` exist, as one
   * step that concurrent requests (in any process sharing the database) cannot interleave.
   * `draw` is called again when `first_eight` or the hash collides with any existing row (revoked ones
   * included), at most `maxDraws` times.
   */
  async insertUnderCap<R extends NewKeyRow>(
    principalId: number,
    cap: number,
    maxDraws: number,
    draw: () => R,
  ): Promise<{ kind: 'full'; active: number } | { kind: 'created'; row: ApiKeyEntity; drawn: R } | { kind: 'collisions' }> {
    return underCapLock(this.dataSource, `api-keys:${principalId}`, async (manager) => {
      const active = await this.countActive(principalId, new Date(), manager);
      if (active >= cap) return { kind: 'full', active };
      for (let attempt = 0; attempt < maxDraws; attempt++) {
        const drawn = draw();
        const row = await insertKey(manager, drawn);
        if (row) return { kind: 'created', row, drawn };
      }
      return { kind: 'collisions' };
    });
  }

  /** Marks the key revoked; the row stays for audit. Returns false if it was already revoked. */
  async revoke(keyId: number, at: Date): Promise<boolean> {
    const result = await this.keys
      .createQueryBuilder()
      .update(ApiKeyEntity)
      .set({ revokedAt: at })
      .where('id = :keyId AND revoked_at IS NULL', { keyId })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  async recordActivity(keyId: number, at: Date): Promise<void> {
    await this.keys.update({ id: keyId }, { latestActivity: at });
  }

  async findOwnerByUuid(uuid: string): Promise<KeyOwner | null> {
    const principal = await this.principals.findOne({ where: { uuid }, relations: { roles: true, identities: true } });
    return principal ? toOwner(principal) : null;
  }

  async roleNames(): Promise<string[]> {
    const roles = await this.roles.find({ order: { name: 'ASC' } });
    return roles.map((role) => role.name);
  }

  /** Keys that still work (not revoked, not expired), as listed in whoami and the admin principal views. */
  activeKeysOf(principalId: number, now: Date): Promise<ApiKeyEntity[]> {
    return this.keys
      .createQueryBuilder('k')
      .where('k.principal_id = :principalId AND k.revoked_at IS NULL', { principalId })
      .andWhere('(k.expiration_time IS NULL OR k.expiration_time > :now)', { now: now.getTime() })
      .orderBy('k.id', 'ASC')
      .getMany();
  }

  isPostgres(): boolean {
    return this.dataSource.options.type === 'postgres';
  }
}

export function toOwner(principal: PrincipalEntity): KeyOwner {
  const roleScopes = new Set<string>();
  for (const role of principal.roles ?? []) for (const scope of role.scopes) roleScopes.add(scope);
  return {
    id: principal.id,
    uuid: principal.uuid,
    type: principal.type,
    identities: (principal.identities ?? []).map((identity) => ({ id: identity.id, provider: identity.provider })),
    roleScopes,
  };
}

/** Null on a collision; in a savepoint, so a PostgreSQL unique violation does not abort the surrounding transaction. */
async function insertKey(manager: EntityManager, row: NewKeyRow): Promise<ApiKeyEntity | null> {
  const { firstEight, hashedSecret, expirationTime, note, scopes, accessTags, path, principalId, timeCreated } = row;
  try {
    return await manager.transaction((savepoint) => {
      const keys = savepoint.getRepository(ApiKeyEntity);
      return keys.save(keys.create({ firstEight, hashedSecret, expirationTime, note, scopes, accessTags, path, principalId, timeCreated, latestActivity: null, revokedAt: null }));
    });
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = (error as QueryFailedError & { driverError?: { code?: string } }).driverError;
  const code = driverError?.code;
  // SQLite: SQLITE_CONSTRAINT_UNIQUE; PostgreSQL: 23505 unique_violation.
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
