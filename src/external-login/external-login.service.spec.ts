import type { ExternalAuthenticator } from '../plugins-api';

// @nestjs/common 12 is ESM, which Jest cannot require on Node 20; this unit spec exercises the service as
// a plain class, so only the decorators and the logger are replaced. The e2e specs run the real module.
jest.mock('@nestjs/common', () => ({
  Inject: () => () => undefined,
  Injectable: () => () => undefined,
  Logger: class {
    log(): void {}
    warn(): void {}
    error(): void {}
    debug(): void {}
  },
}));
import type { DataSource } from 'typeorm';
import { createTestDatabase, testEngines, TestDatabase } from '../../test/helpers/postgres';
import { openDatabase } from '../database/data-source';
import { ExternalLoginService, IdentityLogin } from './external-login.service';
import type { TokenResponse } from './external-login.store';
import { ExternalLoginStore, PendingLoginCaps, sha256Hex } from './external-login.store';
import { normalizeUserCode } from './user-code';

const API = 'http://127.0.0.1:8000/api/v1';
const TOKENS = { access_token: 'a', refresh_token: 'r', identity: { id: 'alice', provider: 'sso' }, principal: 'p' } as const;

/** Stands in for a plugin: it records what the host sent and accepts any code. The real plugin is tested against a real provider. */
function stubAuthenticator(): ExternalAuthenticator & { states: string[] } {
  const states: string[] = [];
  return {
    mode: 'external',
    states,
    async beginLogin({ state, redirectUri }) {
      states.push(state);
      return { authorizationUrl: `https://idp.example/auth?state=${state}&redirect_uri=${encodeURIComponent(redirectUri)}` };
    },
    async completeLogin() {
      return { kind: 'authenticated', identity: { id: 'alice' } };
    },
  };
}

// Only the clock is faked: the database drivers keep their real timers.
const REAL_TIMERS = ['nextTick', 'setImmediate', 'queueMicrotask', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'hrtime', 'performance'] as const;

describe.each(testEngines())(`${ExternalLoginService.name} on %s`, (engine) => {
  let sut: ExternalLoginService;
  let authenticator: ReturnType<typeof stubAuthenticator>;
  let db: TestDatabase;
  let dataSource: DataSource;
  let logins: { provider: string; id: string; state?: Record<string, unknown> }[];
  const identityLogin: IdentityLogin = {
    loginWithIdentity: async (provider, identity) => {
      logins.push({ provider, ...identity });
      return TOKENS as unknown as TokenResponse;
    },
  };

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dataSource = await openDatabase(db.uri, { initIfNotExists: true });
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  beforeEach(async () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z'), doNotFake: [...REAL_TIMERS] });
    for (const table of ['external_login_requests', 'device_login_requests', 'user_code_failures']) await dataSource.query(`DELETE FROM ${table}`);
    logins = [];
    authenticator = stubAuthenticator();
    sut = newService();
  });
  afterEach(() => jest.useRealTimers());

  /** Another replica: its own service and store objects, the same database. */
  function newService(caps: PendingLoginCaps = { perAddress: 50, perProvider: 10000 }): ExternalLoginService {
    return new ExternalLoginService(
      { external: (p) => (p === 'sso' || p === 'other' ? authenticator : undefined) },
      identityLogin,
      new ExternalLoginStore(dataSource),
      { pendingLoginCaps: caps },
    );
  }

  async function startDevice() {
    const start = await sut.startDeviceFlow('sso', API, '10.0.0.1');
    const state = authenticator.states.at(-1)!;
    return { start, state };
  }

  describe('submitUserCode', () => {
    it('should refuse a user code once the pending request has expired (15 minutes)', async () => {
      const { start, state } = await startDevice();
      jest.setSystemTime(Date.now() + 15 * 60 * 1000 + 1);
      const result = await sut.submitUserCode('sso', { code: 'c', state, user_code: start.user_code }, '10.0.0.1');
      expect(result.kind).toBe('failure');
      await expect(sut.pollDeviceCode('sso', start.device_code)).rejects.toMatchObject({ status: 404 });
    });

    it('should refuse the code of another pending request', async () => {
      const first = await startDevice();
      const second = await startDevice();
      const result = await sut.submitUserCode('sso', { code: 'c', state: first.state, user_code: second.start.user_code }, '10.0.0.1');
      expect(result).toMatchObject({ kind: 'retry', status: 401 });
    });

    it('should stop accepting codes for a login after five wrong ones', async () => {
      const { start, state } = await startDevice();
      for (let i = 0; i < 4; i++) {
        expect((await sut.submitUserCode('sso', { code: 'c', state, user_code: 'ZZZZZZZZ' }, '10.0.0.1')).kind).toBe('retry');
      }
      expect((await sut.submitUserCode('sso', { code: 'c', state, user_code: 'ZZZZZZZZ' }, '10.0.0.1')).kind).toBe('failure');
      expect((await sut.submitUserCode('sso', { code: 'c', state, user_code: start.user_code }, '10.0.0.1')).kind).toBe('failure');
    });

    it('should rate-limit wrong codes per client address across logins', async () => {
      for (let i = 0; i < 10; i++) {
        const { state } = await startDevice();
        await sut.submitUserCode('sso', { code: 'c', state, user_code: 'ZZZZZZZZ' }, '10.0.0.9');
      }
      const { start, state } = await startDevice();
      expect(await sut.submitUserCode('sso', { code: 'c', state, user_code: start.user_code }, '10.0.0.9')).toMatchObject({ status: 429 });
      jest.setSystemTime(Date.now() + 11 * 60 * 1000);
      const fresh = await startDevice();
      expect((await sut.submitUserCode('sso', { code: 'c', state: fresh.state, user_code: fresh.start.user_code }, '10.0.0.9')).kind).toBe('success');
    });
  });

  describe('pollDeviceCode', () => {
    it('should hand the tokens out exactly once', async () => {
      const { start, state } = await startDevice();
      expect((await sut.submitUserCode('sso', { code: 'c', state, user_code: start.user_code.toLowerCase() }, '10.0.0.1')).kind).toBe('success');
      await expect(sut.pollDeviceCode('sso', start.device_code)).resolves.toEqual(TOKENS);
      await expect(sut.pollDeviceCode('sso', start.device_code)).rejects.toMatchObject({ status: 404 });
    });

    it('should accept polls spaced by the interval without slow_down', async () => {
      const { start } = await startDevice();
      for (let i = 0; i < 3; i++) {
        await expect(sut.pollDeviceCode('sso', start.device_code)).rejects.toMatchObject({ detail: { error: 'authorization_pending' } });
        jest.setSystemTime(Date.now() + 5000);
      }
    });
  });

  describe('across replicas sharing the database', () => {
    it('should accept a callback on another replica, and only once when two replicas race for it', async () => {
      const location = await sut.beginBrowserLogin('sso', API, 'app-state', '10.0.0.1');
      const state = authenticator.states.at(-1)!;
      expect(new URL(location).searchParams.get('redirect_uri')).toBe(`${API}/auth/provider/sso/code`);
      const results = await Promise.allSettled([newService().completeBrowserLogin('sso', { code: 'c', state }), newService().completeBrowserLogin('sso', { code: 'c', state })]);
      expect(results.filter((r) => r.status === 'fulfilled')).toEqual([{ status: 'fulfilled', value: { kind: 'tokens', tokens: TOKENS } }]);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([{ status: 'rejected', reason: expect.objectContaining({ status: 401 }) }]);
      expect(logins).toHaveLength(1);
    });

    it('should complete a device login started on one replica in the browser on another and open one session for two racing polls', async () => {
      const { start, state } = await startDevice();
      const replicaB = newService();
      expect((await replicaB.submitUserCode('sso', { code: 'c', state, user_code: start.user_code }, '10.0.0.1')).kind).toBe('success');
      expect(logins).toHaveLength(0);
      const polls = await Promise.allSettled([sut.pollDeviceCode('sso', start.device_code), replicaB.pollDeviceCode('sso', start.device_code)]);
      expect(polls.filter((r) => r.status === 'fulfilled')).toEqual([{ status: 'fulfilled', value: TOKENS }]);
      expect(polls.filter((r) => r.status === 'rejected')).toEqual([{ status: 'rejected', reason: expect.objectContaining({ status: 404 }) }]);
      expect(logins).toEqual([{ provider: 'sso', id: 'alice' }]);
    });

    it('should count wrong codes per login and per address whichever replica serves the form', async () => {
      const { state } = await startDevice();
      for (let i = 0; i < 4; i++) {
        expect((await newService().submitUserCode('sso', { code: 'c', state, user_code: 'ZZZZZZZZ' }, '10.0.0.5')).kind).toBe('retry');
      }
      expect((await newService().submitUserCode('sso', { code: 'c', state, user_code: 'ZZZZZZZZ' }, '10.0.0.5')).kind).toBe('failure');
      for (let i = 0; i < 5; i++) {
        const next = await startDevice();
        await newService().submitUserCode('sso', { code: 'c', state: next.state, user_code: 'ZZZZZZZZ' }, '10.0.0.5');
      }
      const last = await startDevice();
      expect(await newService().submitUserCode('sso', { code: 'c', state: last.state, user_code: last.start.user_code }, '10.0.0.5')).toMatchObject({ status: 429 });
    });

    it('should keep the state, the device code and the user code out of the database', async () => {
      const { start, state } = await startDevice();
      const dump = JSON.stringify([
        await dataSource.query('SELECT * FROM external_login_requests'),
        await dataSource.query('SELECT * FROM device_login_requests'),
      ]);
      expect(dump).toContain(sha256Hex(start.device_code));
      for (const secret of [state, start.device_code, start.user_code, start.user_code.replace('-', '')]) expect(dump).not.toContain(secret);
    });
  });

  describe('completeBrowserLogin', () => {
    it('should refuse a state issued for another provider or purpose', async () => {
      const { state } = await startDevice();
      await expect(sut.completeBrowserLogin('sso', { code: 'c', state })).rejects.toMatchObject({ status: 401 });
    });

    it('should refuse a state after ten minutes', async () => {
      await sut.beginBrowserLogin('sso', API, undefined, '10.0.0.1');
      const state = authenticator.states.at(-1)!;
      jest.setSystemTime(Date.now() + 10 * 60 * 1000 + 1);
      await expect(sut.completeBrowserLogin('sso', { code: 'c', state })).rejects.toMatchObject({ status: 401 });
    });
  });

  describe('pending-login caps', () => {
    it('should refuse a flooding address with 429 and Retry-After, while other addresses and finished logins go on', async () => {
      sut = newService({ perAddress: 3, perProvider: 100 });
      for (let i = 0; i < 3; i++) await sut.beginBrowserLogin('sso', API, undefined, '10.0.0.9');
      const underWay = authenticator.states.at(-1)!;
      const refused = await sut.beginBrowserLogin('sso', API, undefined, '10.0.0.9').catch((error: unknown) => error);
      expect(refused).toMatchObject({ status: 429, detail: expect.stringMatching(/^Too many logins in progress from your address \(3\)\. Finish one, or try again in \d+ seconds\.$/) });
      expect(Number((refused as { headers: Record<string, string> }).headers['retry-after'])).toBeGreaterThan(500);
      // The device flow counts against the same cap.
      await expect(sut.startDeviceFlow('sso', API, '10.0.0.9')).rejects.toMatchObject({ status: 429 });
      // Another address (IPv6 counts per /64) still starts a login, and a login under way still completes.
      await expect(sut.beginBrowserLogin('sso', API, undefined, '2001:db8::1')).resolves.toContain('https://idp.example/');
      await expect(sut.completeBrowserLogin('sso', { code: 'c', state: underWay })).resolves.toMatchObject({ kind: 'tokens' });
      // The finished login no longer counts: the flooding address has room for exactly one more.
      await sut.beginBrowserLogin('sso', API, undefined, '10.0.0.9');
      await expect(sut.beginBrowserLogin('sso', API, undefined, '10.0.0.9')).rejects.toMatchObject({ status: 429 });
    });

    it('should stop counting logins once they expire', async () => {
      sut = newService({ perAddress: 2, perProvider: 100 });
      for (let i = 0; i < 2; i++) await sut.beginBrowserLogin('sso', API, undefined, '10.0.0.9');
      await expect(sut.beginBrowserLogin('sso', API, undefined, '10.0.0.9')).rejects.toMatchObject({ status: 429 });
      jest.setSystemTime(Date.now() + 10 * 60 * 1000 + 1);
      await expect(sut.beginBrowserLogin('sso', API, undefined, '10.0.0.9')).resolves.toContain('https://idp.example/');
    });

    it('should cap each provider over all addresses with 503, leaving other providers alone', async () => {
      sut = newService({ perAddress: 100, perProvider: 3 });
      for (let i = 0; i < 3; i++) await sut.beginBrowserLogin('sso', API, undefined, `10.0.1.${i}`);
      await expect(sut.beginBrowserLogin('sso', API, undefined, '10.0.2.1')).rejects.toMatchObject({ status: 503, detail: 'Too many logins in progress via "sso"; try again in a few minutes' });
      await expect(sut.beginBrowserLogin('other', API, undefined, '10.0.2.1')).resolves.toContain('https://idp.example/');
    });

    it('should never overshoot a cap under parallel requests, from one replica or two', async () => {
      const caps = { perAddress: 10, perProvider: 1000 };
      const replicas = [newService(caps), newService(caps)];
      const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => replicas[i % 2].beginBrowserLogin('sso', API, undefined, '10.0.0.9')));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
      expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.status)).toEqual(Array(30).fill(429));
      expect(await dataSource.query('SELECT hashed_state FROM external_login_requests')).toHaveLength(10);
    });
  });
});

describe('normalizeUserCode', () => {
  it('should ignore case, dashes and spaces and refuse look-alike characters', () => {
    expect(normalizeUserCode(' abcd-efgh ')).toBe('ABCDEFGH');
    expect(normalizeUserCode('ABCD EFGH')).toBe('ABCDEFGH');
    expect(normalizeUserCode('ABCD-EFG0')).toBeNull();
    expect(normalizeUserCode('ABCD-EFGI')).toBeNull();
    expect(normalizeUserCode('ABC')).toBeNull();
  });
});
