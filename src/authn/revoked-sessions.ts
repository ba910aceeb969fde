import { Injectable } from '@nestjs/common';

/**
 * Sessions revoked by this process, so their still-unexpired access tokens stop working at once
 * (Tiled lets them live until `exp`). Entries drop out once every access token of the session has expired.
 * Per process: another replica learns of a revocation only when the access token expires.
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
