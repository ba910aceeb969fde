import type { PlainLogger } from '../common/logging/plain-logger';

/** At most one `latest_activity` write per key per interval, so a busy key does not turn reads into writes. */
export const ACTIVITY_INTERVAL_MS = 60_000;
const MAX_TRACKED = 50_000;

export class ApiKeyActivityRecorder {
  private readonly lastWritten = new Map<number, number>();

  constructor(
    private readonly write: (keyId: number, at: Date) => Promise<void>,
    private readonly logger: PlainLogger,
    private readonly intervalMs = ACTIVITY_INTERVAL_MS,
  ) {}

  /** Fire-and-forget: the request never waits for (or fails because of) the activity write. */
  touch(keyId: number, now: number): void {
    const last = this.lastWritten.get(keyId);
    if (last !== undefined && now - last < this.intervalMs) return;
    if (this.lastWritten.size >= MAX_TRACKED) this.prune(now);
    this.lastWritten.set(keyId, now);
    // Tiled stores activity with second resolution.
    const at = new Date(Math.floor(now / 1000) * 1000);
    this.write(keyId, at).catch((error: unknown) => {
      this.lastWritten.delete(keyId);
      this.logger.warn(`Could not record activity of API key ${keyId}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  private prune(now: number): void {
    for (const [keyId, at] of this.lastWritten) if (now - at >= this.intervalMs) this.lastWritten.delete(keyId);
    if (this.lastWritten.size >= MAX_TRACKED) this.lastWritten.clear();
  }
}
