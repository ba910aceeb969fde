import { hash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createTestDatabase, testEngines, TestDatabase } from '../../test/helpers/postgres';
import type { AuthContext } from '../auth/auth-context';
import { DomainError } from '../common/errors/domain-error';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { AppConfig, DEFAULT_AUTHENTICATION, DEFAULT_SERVER } from '../config/app-config';
import { openDatabase } from '../database/data-source';
import { ApiKeyEntity } from '../database/entities';
import type { PlainLogger } from '../common/logging/plain-logger';
import { IdentityEntity, PrincipalEntity, RoleEntity } from '../database/entities';
import { CredentialCache } from '../common/revocation/credential-cache';
import { LocalRevocationBus, PostgresRevocationBus, RevocationBus } from '../common/revocation/revocation-bus';
import { ApiKeyVerifierService } from './api-key-verifier';
import { ApiKeyStore } from './api-key.store';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';

function configWith(maxLifetime: number | null): AppConfig {
  return {
    trees: [],
    authentication: { ...DEFAULT_AUTHENTICATION, api_key_max_lifetime: maxLifetime },
    allow_origins: [],
    server: { ...DEFAULT_SERVER },
  };
}

interface Harness {
  store: ApiKeyStore;
  verifier: ApiKeyVerifierService;
  sut: ApiKeysService;
}

const quiet: PlainLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** Principals made directly in the database (the principals module needs Nest, which Jest cannot load). */
async function makeUser(dataSource: DataSource, id: string, roleNames: string[] = ['user']): Promise<AuthContext> {
  const principal = await dataSource.getRepository(PrincipalEntity).save({ uuid: randomUUID(), type: 'user', timeCreated: new Date() });
  const roles = await dataSource.getRepository(RoleEntity).find();
  const held = roles.filter((role) => roleNames.includes(role.name));
  for (const role of held) await dataSource.createQueryBuilder().relation(PrincipalEntity, 'roles').of(principal.id).add(role.id);
  await dataSource.getRepository(IdentityEntity).insert({ id, provider: 'toy', principalId: principal.id, latestLogin: null, timeCreated: new Date() });
  return {
    principal: { uuid: principal.uuid, type: 'user', identities: [{ id, provider: 'toy' }] },
    scopes: new Set(held.flatMap((role) => role.scopes)),
    via: 'access-token',
  };
}

async function harness(dataSource: DataSource, config: AppConfig, bus: RevocationBus = new LocalRevocationBus()): Promise<Harness> {
  const store = new ApiKeyStore(dataSource);
  const verifier = new ApiKeyVerifierService(store, new CredentialCache({ ttlMs: 60_000, maxEntries: 100 }), bus, quiet);
  await verifier.onModuleInit();
  return { store, verifier, sut: new ApiKeysService(store, verifier, config, quiet) };
}

/** Through the DTO's parse, as the validation pipe does before the controller calls the service. */
function create(sut: ApiKeysService, auth: AuthContext, body: unknown): ReturnType<ApiKeysService['createForCaller']> {
  return Promise.resolve().then(() => sut.createForCaller(auth, CreateApiKeyDto.parse(body)));
}

async function rejection(promise: Promise<unknown>): Promise<TiledHttpError | DomainError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TiledHttpError || error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe.each(testEngines())(`${ApiKeysService.name} on %s`, (engine) => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let h: Harness;
  let alice: AuthContext;
  let bob: AuthContext;

  beforeEach(async () => {
    db = await createTestDatabase(engine);
    dataSource = await openDatabase(db.uri, { initIfNotExists: true });
    h = await harness(dataSource, configWith(null));
    alice = await makeUser(dataSource, 'alice');
    bob = await makeUser(dataSource, 'bob');
  });

  afterEach(async () => {
    await h.verifier.onModuleDestroy();
    await dataSource.destroy();
    await db.drop();
  });

  describe('createForCaller', () => {
    it('should mint a 72-hex secret, store only the SHA-256 of its bytes, and default to inherit', async () => {
      const created = await create(h.sut, alice, { expires_in: null, scopes: null });
      expect(created.secret).toMatch(/^[0-9a-f]{72}$/);
      expect(created.first_eight).toBe(created.secret.slice(0, 8));
      expect(created.scopes).toEqual(['inherit']);
      const row = await dataSource.getRepository(ApiKeyEntity).findOneByOrFail({ firstEight: created.first_eight });
      expect(row.hashedSecret).toBe(hash('sha256', Buffer.from(created.secret, 'hex'), 'hex'));
      const stored = JSON.stringify(await dataSource.query('SELECT * FROM api_keys'));
      expect(stored).not.toContain(created.secret);
    });

    it('should accept a body with missing keys as nulls', async () => {
      const created = await create(h.sut, alice, {});
      expect(created).toMatchObject({ expiration_time: null, note: null, scopes: ['inherit'], access_tags: null });
    });

    it('should refuse scopes the owner lacks with 403 naming them', async () => {
      const error = await rejection(create(h.sut, alice, { expires_in: 600, scopes: ['admin:apikeys'] }));
      expect(error.status).toBe(403);
      expect(error.detail).toMatch(/^Requested scopes \['admin:apikeys'\] must be a subset of the principal's scopes \['read:metadata', /);
      expect(error.detail).toContain("Not held: ['admin:apikeys']");
    });

    it('should refuse unknown scopes with 403 calling them unknown', async () => {
      const error = await rejection(create(h.sut, alice, { expires_in: 600, scopes: ['read:everything'] }));
      expect(error.status).toBe(403);
      expect(error.detail).toContain("Unknown scopes: ['read:everything']");
    });

    it('should refuse FastAPI-style on malformed fields, reporting every problem', async () => {
      const error = await rejection(create(h.sut, alice, { expires_in: 1.5, scopes: 'read:metadata' }));
      expect(error.status).toBe(422);
      expect(error.detail).toEqual([
        { type: 'int_from_float', loc: ['body', 'expires_in'], msg: 'Input should be a valid integer, got a number with a fractional part', input: 1.5 },
        { type: 'list_type', loc: ['body', 'scopes'], msg: 'Input should be a valid list', input: 'read:metadata' },
      ]);
    });

    it('should refuse a non-positive lifetime', async () => {
      const error = await rejection(create(h.sut, alice, { expires_in: -5, scopes: null }));
      expect(error.status).toBe(422);
      expect(error.detail).toEqual([expect.objectContaining({ type: 'greater_than', loc: ['body', 'expires_in'] })]);
    });

    it('should refuse a lifetime that would end after the year 9999 with a 422, not fail on the date', async () => {
      const error = await rejection(create(h.sut, alice, { expires_in: 2206030008683580, scopes: null }));
      expect(error.status).toBe(422);
      expect(error.detail).toEqual([expect.objectContaining({ type: 'less_than_equal', loc: ['body', 'expires_in'] })]);
      const longest = await create(h.sut, alice, { expires_in: Math.floor((Date.UTC(9999, 11, 31) - Date.now()) / 1000), scopes: null });
      expect(longest.expiration_time!.getUTCFullYear()).toBe(9999);
    });

    it('should refuse inherit combined with access tags', async () => {
      const error = await rejection(create(h.sut, alice, { expires_in: null, scopes: null, access_tags: ['x'] }));
      expect(error.status).toBe(403);
      expect(error.detail).toBe("Requested scopes ['inherit'] contain scopes {'inherit'}, which cannot be combined with access tag restrictions.");
    });

    it('should not let a key mint a key with more scopes than itself', async () => {
      const narrow = await create(h.sut, alice, { scopes: ['read:metadata', 'create:apikeys'] });
      const viaKey = await h.verifier.verify(narrow.secret);
      expect(viaKey).not.toBeNull();
      const wider = await rejection(create(h.sut, viaKey!, { scopes: ['read:data'] }));
      expect(wider.status).toBe(403);
      expect(wider.detail).toContain("Not held: ['read:data']");
      const inherit = await rejection(create(h.sut, viaKey!, { scopes: null }));
      expect(inherit.status).toBe(403);
      const same = await create(h.sut, viaKey!, { scopes: ['read:metadata'] });
      expect(same.scopes).toEqual(['read:metadata']);
    });

    it('should stop at 100 working keys per principal, with Tiled\'s message', async () => {
      for (let i = 0; i < 100; i++) await create(h.sut, alice, { scopes: ['read:metadata'] });
      const error = await rejection(create(h.sut, alice, { scopes: ['read:metadata'] }));
      expect(error.status).toBe(400);
      expect(error.detail).toBe(
        'This Principal already has 100 API keys which is greater than or equal to the maximum number allowed, 100. Some API keys must be deleted before creating new ones.',
      );
      expect((await create(h.sut, bob, { scopes: ['read:metadata'] })).scopes).toEqual(['read:metadata']);
    });

    it('should cap lifetimes at api_key_max_lifetime and give capped keys that lifetime by default', async () => {
      const capped = await harness(dataSource, configWith(3600));
      const error = await rejection(create(capped.sut, alice, { expires_in: 7200 }));
      expect(error.status).toBe(422);
      expect(JSON.stringify(error.detail)).toContain('api_key_max_lifetime caps API keys at 3600 seconds');
      const before = Date.now();
      const created = await create(capped.sut, alice, { expires_in: null });
      const after = Date.now();
      const expires = created.expiration_time!.getTime();
      expect(expires).toBeGreaterThan(before + 3590_000);
      // Expiry is rounded up to the second, from a clock read during the call.
      expect(expires).toBeLessThanOrEqual(Math.ceil((after + 3600_000) / 1000) * 1000);
      await capped.verifier.onModuleDestroy();
    });
  });

  describe('verify', () => {
    it('should intersect stored scopes with the owner\'s current roles and expand inherit', async () => {
      const inherit = await create(h.sut, alice, { scopes: null });
      const scoped = await create(h.sut, alice, { scopes: ['read:metadata'] });
      const inheritCtx = await h.verifier.verify(inherit.secret);
      expect([...inheritCtx!.scopes].sort()).toEqual([...alice.scopes, 'inherit'].sort());
      expect(inheritCtx!.via).toBe('apikey');
      expect(inheritCtx!.principal!.uuid).toBe(alice.principal!.uuid);
      expect([...(await h.verifier.verify(scoped.secret))!.scopes]).toEqual(['read:metadata']);
    });

    it('should refuse malformed and unknown keys without error', async () => {
      expect(await h.verifier.verify('not-hex')).toBeNull();
      expect(await h.verifier.verify('ab'.repeat(36))).toBeNull();
    });

    it('should give a key at least the lifetime asked for, though expiry has second resolution', async () => {
      const before = Date.now();
      const created = await create(h.sut, alice, { expires_in: 1, scopes: null });
      expect(created.expiration_time!.getTime()).toBeGreaterThanOrEqual(before + 1000);
      expect(created.expiration_time!.getTime() % 1000).toBe(0);
      expect(await h.verifier.verify(created.secret)).not.toBeNull();
    });

    it('should refuse a key once it has expired, even when cached', async () => {
      // Two seconds: expiry has second resolution, so a one-second key may already be dead when first used.
      const created = await create(h.sut, alice, { expires_in: 2, scopes: null });
      expect(await h.verifier.verify(created.secret)).not.toBeNull();
      await new Promise((resolve) => setTimeout(resolve, created.expiration_time!.getTime() - Date.now() + 50));
      expect(await h.verifier.verify(created.secret)).toBeNull();
    });

    it('should record latest_activity once, not on every request', async () => {
      const created = await create(h.sut, alice, { scopes: null });
      const writes = jest.spyOn(h.store, 'recordActivity');
      for (let i = 0; i < 20; i++) await h.verifier.verify(created.secret);
      expect(writes).toHaveBeenCalledTimes(1);
      // The write is fire-and-forget on the request path; wait for that very write, however slow the database.
      await writes.mock.results[0].value;
      const row = await dataSource.getRepository(ApiKeyEntity).findOneByOrFail({ firstEight: created.first_eight });
      expect(row.latestActivity).toBeInstanceOf(Date);
    });
  });

  describe('revokeForCaller', () => {
    it('should stop a cached key at once and keep the row for audit', async () => {
      const created = await create(h.sut, alice, { scopes: null });
      expect(await h.verifier.verify(created.secret)).not.toBeNull();
      await h.sut.revokeForCaller(alice, created.first_eight);
      expect(await h.verifier.verify(created.secret)).toBeNull();
      const row = await dataSource.getRepository(ApiKeyEntity).findOneByOrFail({ firstEight: created.first_eight });
      expect(row.revokedAt).toBeInstanceOf(Date);
      const again = await rejection(h.sut.revokeForCaller(alice, created.first_eight));
      expect(again.status).toBe(404);
    });

    it('should accept the full key', async () => {
      const created = await create(h.sut, alice, { scopes: null });
      await h.sut.revokeForCaller(alice, created.secret);
      expect(await h.verifier.verify(created.secret)).toBeNull();
    });

    it("should answer another user's key exactly like an unknown one", async () => {
      const created = await create(h.sut, alice, { scopes: null });
      const theirs = await rejection(h.sut.revokeForCaller(bob, created.first_eight));
      const unknown = await rejection(h.sut.revokeForCaller(bob, '00000000'));
      expect(theirs.status).toBe(404);
      expect(theirs.detail).toBe('The currently-authenticated PrincipalType.user has no such API key.');
      expect(unknown.detail).toBe(theirs.detail);
      expect(await h.verifier.verify(created.secret)).not.toBeNull();
    });
  });

  if (engine === 'postgres') {
    it('should evict a key in another process\'s cache when it is revoked (LISTEN/NOTIFY)', async () => {
      const other = await openDatabase(db.uri, { initIfNotExists: false });
      const replica = await harness(other, configWith(null), new PostgresRevocationBus(other, quiet));
      const local = await harness(dataSource, configWith(null), new PostgresRevocationBus(dataSource, quiet));
      try {
        const created = await create(local.sut, alice, { scopes: null });
        expect(await replica.verifier.verify(created.secret)).not.toBeNull();
        await local.sut.revokeForCaller(alice, created.first_eight);
        // The notice travels asynchronously; the replica's cache TTL here is a minute, so only the notice can evict.
        const deadline = Date.now() + 2000;
        while ((await replica.verifier.verify(created.secret)) !== null && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(await replica.verifier.verify(created.secret)).toBeNull();
      } finally {
        await replica.verifier.onModuleDestroy();
        await local.verifier.onModuleDestroy();
        await other.destroy();
      }
    });
  }
});
