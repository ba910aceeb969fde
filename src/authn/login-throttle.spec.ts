import { LoginThrottle } from './login-throttle';

describe(LoginThrottle.name, () => {
  let now: number;
  let sut: LoginThrottle;
  beforeEach(() => {
    now = 1_000_000;
    sut = new LoginThrottle({ freeFailures: 3, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 8000 }, () => now);
  });

  it('should allow the free failures, then double the wait, capped, and never lock out for good', () => {
    const keys = ['acct:toy:alice', 'ip:127.0.0.1'];
    for (let i = 0; i < 3; i++) sut.recordFailure(keys);
    expect(sut.retryAfterMs(keys)).toBe(0);
    sut.recordFailure(keys);
    expect(sut.retryAfterMs(keys)).toBe(1000);
    sut.recordFailure(keys);
    expect(sut.retryAfterMs(keys)).toBe(2000);
    for (let i = 0; i < 10; i++) sut.recordFailure(keys);
    expect(sut.retryAfterMs(keys)).toBe(8000);
    now += 8000;
    expect(sut.retryAfterMs(keys)).toBe(0);
  });

  it('should clear the account after a success but keep counting the address', () => {
    for (let i = 0; i < 4; i++) sut.recordFailure(['acct:a', 'ip:x']);
    sut.recordSuccess('acct:a');
    expect(sut.retryAfterMs(['acct:a'])).toBe(0);
    expect(sut.retryAfterMs(['ip:x'])).toBe(1000);
  });

  it('should forget failures older than the window', () => {
    for (let i = 0; i < 3; i++) sut.recordFailure(['acct:a']);
    now += 61_000;
    sut.recordFailure(['acct:a']);
    expect(sut.retryAfterMs(['acct:a'])).toBe(0);
  });
});
