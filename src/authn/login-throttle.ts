/**
 * Brute-force protection for password logins: failures are counted per account and per client address
 * in a sliding window; past a free allowance each further failure doubles the wait, capped, so an
 * attacker is slowed to a crawl while a real user is never locked out for good. A success clears the
 * account's counter. In memory: per process, forgotten on restart.
 */
export interface ThrottlePolicy {
  /** Failures allowed in the window before waiting starts. */
  freeFailures: number;
  windowMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = { freeFailures: 5, windowMs: 15 * 60_000, baseDelayMs: 1000, maxDelayMs: 5 * 60_000 };

interface Record_ {
  failures: number;
  firstFailureAt: number;
  blockedUntil: number;
}

export class LoginThrottle {
  private readonly entries = new Map<string, Record_>();

  constructor(
    private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds the caller must still wait, or 0. Checked before the password is even looked at. */
  retryAfterMs(keys: readonly string[]): number {
    const now = this.now();
    let wait = 0;
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry && entry.blockedUntil > now) wait = Math.max(wait, entry.blockedUntil - now);
    }
    return wait;
  }

  recordFailure(keys: readonly string[]): void {
    const now = this.now();
    for (const key of keys) {
      let entry = this.entries.get(key);
      if (!entry || now - entry.firstFailureAt > this.policy.windowMs) {
        entry = { failures: 0, firstFailureAt: now, blockedUntil: 0 };
        this.entries.set(key, entry);
      }
      entry.failures += 1;
      const excess = entry.failures - this.policy.freeFailures;
      if (excess > 0) {
        entry.blockedUntil = now + Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** Math.min(excess - 1, 20));
      }
    }
    if (this.entries.size > 100_000) this.prune(now);
  }

  recordSuccess(accountKey: string): void {
    this.entries.delete(accountKey);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.firstFailureAt > this.policy.windowMs && entry.blockedUntil <= now) this.entries.delete(key);
    }
  }
}
