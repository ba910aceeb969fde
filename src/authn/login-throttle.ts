import { createHash } from 'node:crypto';

/**
 * Brute-force protection for password logins: attempts are counted per account and per client address
 * in a window that opens with the first one; once the free allowance is used up each further attempt
 * waits twice as long as the one before, capped, so an attacker is slowed to a crawl while a real user is
 * never locked out for good.
 *
 * An attempt is counted BEFORE the password is checked, in the same atomic step that decides whether it
 * may be made at all. Counting only once the authenticator has answered let a burst of parallel requests
 * all pass the check before the first failure was recorded. A success gives its attempt back.
 *
 * This file is the whole policy. The counters live in the authentication database
 * (login-throttle.store.ts), so every replica behind a load balancer draws on the same allowance.
 */
export interface ThrottlePolicy {
  /** Attempts allowed in the window before waiting starts. */
  freeFailures: number;
  windowMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const ACCOUNT_POLICY: ThrottlePolicy = { freeFailures: 5, windowMs: 15 * 60_000, baseDelayMs: 1000, maxDelayMs: 5 * 60_000 };
export const ADDRESS_POLICY: ThrottlePolicy = { ...ACCOUNT_POLICY, freeFailures: 30 };

/** A counter whose window is older than this and whose block has ended counts for nothing: it may be deleted. */
export const FORGET_AFTER_MS = Math.max(ACCOUNT_POLICY.windowMs, ADDRESS_POLICY.windowMs);

export interface ThrottleCounter {
  /** Attempts counted in the current window, including those whose answer is still pending. */
  failures: number;
  /** When the current window opened (epoch ms). */
  firstFailureAt: number;
  /** Every attempt is refused until then (epoch ms); 0 when no wait is due. */
  blockedUntil: number;
}

export function retryAfterMs(counter: ThrottleCounter | undefined, now: number): number {
  return counter && counter.blockedUntil > now ? counter.blockedUntil - now : 0;
}

/** The counter with one more attempt made at `now`, which `retryAfterMs` allowed. */
export function countAttempt(policy: ThrottlePolicy, counter: ThrottleCounter | undefined, now: number): ThrottleCounter {
  const current = counter && now - counter.firstFailureAt <= policy.windowMs ? counter : { failures: 0, firstFailureAt: now };
  const failures = current.failures + 1;
  // The last free attempt already starts the first wait: so a burst gets exactly the free allowance.
  const excess = failures - policy.freeFailures;
  const blockedUntil = excess >= 0 ? now + Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(excess, 20)) : 0;
  return { failures, firstFailureAt: current.firstFailureAt, blockedUntil };
}

/**
 * The counter with an attempt given back; `counted` is what counting it produced. A window opened since
 * keeps its count. The wait this attempt started is lifted, unless a later attempt has set another one.
 * Undefined: nothing to change.
 */
export function giveBack(counter: ThrottleCounter | undefined, counted: ThrottleCounter): ThrottleCounter | null | undefined {
  if (!counter || counter.firstFailureAt !== counted.firstFailureAt) return undefined;
  const failures = counter.failures - 1;
  if (failures <= 0) return null;
  return { failures, firstFailureAt: counter.firstFailureAt, blockedUntil: counter.blockedUntil === counted.blockedUntil ? 0 : counter.blockedUntil };
}

/**
 * Usernames are chosen by whoever calls the endpoint, of any length, and now and then are a password typed
 * into the wrong box: the account key is a SHA-256, so its length is fixed and no such slip is kept in the
 * database. Addresses stay readable for an operator; one that is unexpectedly long is hashed too.
 * Either way a key is at most 72 characters.
 */
export function accountKey(provider: string, username: string): string {
  return `account:${sha256Hex(`${provider}\u0000${username}`)}`;
}

export function addressKey(address: string): string {
  return `address:${address.length <= 64 ? address : sha256Hex(address)}`;
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** What to store for one key: a counter, null to delete it, undefined to leave it as it is. */
export type CounterWrite = ThrottleCounter | null | undefined;

/** Given the counters of some keys, in order: what to write for each, in the same order, and what to answer. */
export type Decide<T> = (counters: (ThrottleCounter | undefined)[]) => { writes: CounterWrite[]; result: T };

export interface ThrottleStore {
  /**
   * One atomic read-decide-write of the counters under `keys`: no other update of those keys, from this
   * process or another replica, falls between the read and the write. `decide` is called once.
   */
  update<T>(keys: readonly string[], decide: Decide<T>): Promise<T>;
}

/** What counting an attempt wrote, so that it can be given back exactly. */
export interface CountedAttempt {
  keys: [account: string, address: string];
  counted: [account: ThrottleCounter, address: ThrottleCounter];
}

export type Admission = { allowed: true; attempt: CountedAttempt } | { allowed: false; retryAfterMs: number };

export class LoginThrottle {
  constructor(
    private readonly store: ThrottleStore,
    private readonly policies: { account: ThrottlePolicy; address: ThrottlePolicy } = { account: ACCOUNT_POLICY, address: ADDRESS_POLICY },
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether this attempt may be made; if it may, it is already counted as a failure. */
  admit(provider: string, username: string, address: string): Promise<Admission> {
    const keys: CountedAttempt['keys'] = [accountKey(provider, username), addressKey(address)];
    return this.store.update<Admission>(keys, ([forAccount, forAddress]) => {
      // Read the clock only now: the store may have waited for another login's lock.
      const now = this.now();
      const wait = Math.max(retryAfterMs(forAccount, now), retryAfterMs(forAddress, now));
      if (wait > 0) return { writes: [], result: { allowed: false, retryAfterMs: wait } };
      const counted: CountedAttempt['counted'] = [countAttempt(this.policies.account, forAccount, now), countAttempt(this.policies.address, forAddress, now)];
      return { writes: counted, result: { allowed: true, attempt: { keys, counted } } };
    });
  }

  /** The right password: the account starts afresh, and the address gets its attempt back. */
  succeeded(attempt: CountedAttempt): Promise<void> {
    return this.store.update(attempt.keys, ([, forAddress]) => ({ writes: [null, giveBack(forAddress, attempt.counted[1])], result: undefined }));
  }

  /** The authenticator broke: that was no guess, so neither counter keeps it. */
  withdraw(attempt: CountedAttempt): Promise<void> {
    return this.store.update(attempt.keys, ([forAccount, forAddress]) => ({
      writes: [giveBack(forAccount, attempt.counted[0]), giveBack(forAddress, attempt.counted[1])],
      result: undefined,
    }));
  }
}
