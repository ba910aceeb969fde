import { Injectable } from '@nestjs/common';

/**
 * Sessions known to be revoked (by this process, by a NOTIFY from another, or seen in the database), so their
 * still-unexpired access tokens are refused without a lookup (Tiled lets them live until `exp`).
 * Entries drop out once every access token of the session has expired.
 */
@Injectable()
export class RevokedSessions {
  private readonly until = new Map<string, number>();

  add(sessionHex: string, rememberUntilMs: number): void {
    this.until.set(sessionHex, rememberUntilMs);
    if (this.until.size > 10_000) this.prune();
  }

  has(sessionHex: string): boolean {
    const expiry = this.until.get(sessionHex);
    return expiry !== undefined && expiry > Date.now();
  }

  private prune(): void {
    const now = Date.now();
    for (const [sid, expiry] of this.until) if (expiry <= now) this.until.delete(sid);
  }
}
