import { Admission, accountKey, addressKey, CountedAttempt, Decide, LoginThrottle, ThrottleCounter, ThrottleStore } from './login-throttle';

/** The policy alone: a store that is trivially atomic. The database store has its own spec, on both engines. */
class MemoryStore implements ThrottleStore {
  readonly counters = new Map<string, ThrottleCounter>();

  async update<T>(keys: readonly string[], decide: Decide<T>): Promise<T> {
    const { writes, result } = decide(keys.map((key) => this.counters.get(key)));
    keys.forEach((key, i) => {
      if (writes[i] === null) this.counters.delete(key);
      else if (writes[i]) this.counters.set(key, writes[i]!);
    });
    return result;
  }
}

function attemptOf(admission: Admission): CountedAttempt {
  if (!admission.allowed) throw new Error(`refused for ${admission.retryAfterMs} ms`);
  return admission.attempt;
}

describe(LoginThrottle.name, () => {
  let now: number;
  let sut: LoginThrottle;
  const policy = { windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 8000 };
  beforeEach(() => {
    now = 1_000_000;
    sut = new LoginThrottle(new MemoryStore(), { account: { ...policy, freeFailures: 3 }, address: { ...policy, freeFailures: 5 } }, () => now);
  });

  /** A wrong password: the attempt is admitted (counted), and nothing is given back. */
  async function fail(username = 'alice', address = '10.0.0.1'): Promise<void> {
    attemptOf(await sut.admit('toy', username, address));
  }
  /** What the next attempt is told to wait; 0 means it was admitted, and so counted. */
  async function waitFor(username = 'alice', address = '10.0.0.1'): Promise<number> {
    const admission = await sut.admit('toy', username, address);
    return admission.allowed ? 0 : admission.retryAfterMs;
  }

  describe('admit', () => {
    it('should allow exactly the free attempts, then double the wait, capped, and never lock out for good', async () => {
      for (let i = 0; i < 3; i++) await fail();
      const waits: number[] = [await waitFor()];
      for (let i = 0; i < 5; i++) {
        now += waits.at(-1)!;
        await fail();
        waits.push(await waitFor());
      }
      expect(waits).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
      now += 8000;
      expect(await waitFor()).toBe(0);
    });

    it('should not count refused attempts: waiting out the wait is enough', async () => {
      for (let i = 0; i < 3; i++) await fail();
      for (let i = 0; i < 10; i++) expect(await waitFor()).toBe(1000);
      now += 1000;
      await fail();
      expect(await waitFor()).toBe(2000);
    });

    it('should forget attempts older than the window', async () => {
      for (let i = 0; i < 2; i++) await fail();
      now += 61_000;
      for (let i = 0; i < 2; i++) await fail();
      expect(await waitFor()).toBe(0);
    });

    it('should count per account and per address', async () => {
      for (let i = 0; i < 3; i++) await fail('alice', `10.0.0.${i}`);
      expect(await waitFor('alice', '10.0.0.9')).toBe(1000);
      expect(await waitFor('bob', '10.0.0.9')).toBe(0);
      for (let i = 0; i < 4; i++) await fail(`user${i}`, '10.0.0.9');
      expect(await waitFor('carol', '10.0.0.9')).toBe(1000);
    });
  });

  describe('succeeded', () => {
    it('should clear the account but keep counting the address', async () => {
      for (let i = 0; i < 2; i++) await fail();
      await sut.succeeded(attemptOf(await sut.admit('toy', 'alice', '10.0.0.1')));
      for (let i = 0; i < 2; i++) await fail();
      expect(await waitFor('alice')).toBe(0);
      expect(await waitFor('carol')).toBe(1000);
    });

    it('should never hold a user back for their own successful logins, even the one that used up the allowance', async () => {
      for (let i = 0; i < 2; i++) await fail();
      for (let i = 0; i < 50; i++) await sut.succeeded(attemptOf(await sut.admit('toy', 'alice', '10.0.0.1')));
      expect(await waitFor()).toBe(0);
    });

    it('should keep a wait that a later attempt set while the right password was being checked', async () => {
      for (let i = 0; i < 4; i++) await fail(`user${i}`, '10.0.0.1');
      const right = attemptOf(await sut.admit('toy', 'alice', '10.0.0.1'));
      now += 1000;
      await fail('mallory', '10.0.0.1');
      await sut.succeeded(right);
      expect(await waitFor('carol')).toBe(2000);
    });
  });

  describe('withdraw', () => {
    it('should give the attempt back to both counters when the authenticator broke', async () => {
      for (let i = 0; i < 2; i++) await fail();
      for (let i = 0; i < 5; i++) await sut.withdraw(attemptOf(await sut.admit('toy', 'alice', '10.0.0.1')));
      await fail();
      expect(await waitFor()).toBe(1000);
    });
  });
});

describe('throttle keys', () => {
  it('should bound the stored key and keep no username in it, whatever was typed', () => {
    for (const username of ['alice', 'hunter2 typed in the wrong box', 'x'.repeat(100_000)]) {
      const key = accountKey('toy', username);
      expect(key).toMatch(/^account:[0-9a-f]{64}$/);
      expect(key).not.toContain(username);
    }
    expect(addressKey('2001:db8::1')).toBe('address:2001:db8::1');
    expect(addressKey('x'.repeat(1000))).toMatch(/^address:[0-9a-f]{64}$/);
  });
});
