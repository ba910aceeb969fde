import type { PlainLogger } from '../common/logging/plain-logger';
import { ACTIVITY_INTERVAL_MS, MAX_TRACKED, RecentKeyUse, toSecond } from '../principals/recent-key-use';

export class ApiKeyActivityRecorder {
  private readonly lastWritten = new Map<number, number>();

  constructor(
    private readonly write: (keyId: number, at: Date) => Promise<void>,
    private readonly logger: PlainLogger,
    private readonly intervalMs = ACTIVITY_INTERVAL_MS,
    readonly recent: RecentKeyUse = new RecentKeyUse(intervalMs),
  ) {}

  /** Fire-and-forget: the request never waits for (or fails because of) the activity write. */
  touch(keyId: number, now: number): void {
    this.recent.note(keyId, now);
    const last = this.lastWritten.get(keyId);
    if (last !== undefined && now - last < this.intervalMs) return;
    if (this.lastWritten.size >= MAX_TRACKED) this.prune(now);
    this.lastWritten.set(keyId, now);
    this.write(keyId, toSecond(now)).catch((error: unknown) => {
      this.lastWritten.delete(keyId);
      this.logger.warn(`Could not record activity of API key ${keyId}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  private prune(now: number): void {
    for (const [keyId, at] of this.lastWritten) if (now - at >= this.intervalMs) this.lastWritten.delete(keyId);
    if (this.lastWritten.size >= MAX_TRACKED) this.lastWritten.clear();
  }
}
