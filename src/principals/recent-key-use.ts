// Here, not in src/apikeys: principal listings read a key's latest use, and the API-keys module
// (above this one) writes it through its ApiKeyActivityRecorder.

/** At most one `latest_activity` write per key per interval, so a busy key does not turn reads into writes. */
export const ACTIVITY_INTERVAL_MS = 60_000;
export const MAX_TRACKED = 50_000;

/** Tiled stores activity with second resolution. */
export function toSecond(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/**
 * The latest use of each key seen by this process, kept in memory. The database copy is written at most
 * once a minute per key, so on its own it lags up to a minute behind: a client that uses a key and then
 * lists its keys would see no activity. Listings overlay this on what the database returns.
 */
export class RecentKeyUse {
  private readonly used = new Map<number, number>();

  constructor(private readonly intervalMs = ACTIVITY_INTERVAL_MS) {}

  note(keyId: number, now: number): void {
    if (this.used.size >= MAX_TRACKED && !this.used.has(keyId)) this.prune(now);
    this.used.set(keyId, now);
  }

  /** The later of the stored `latest_activity` and this process's latest use of the key. */
  latest(keyId: number, stored: Date | null): Date | null {
    const used = this.used.get(keyId);
    if (used === undefined) return stored;
    const seen = toSecond(used);
    return stored && stored.getTime() >= seen.getTime() ? stored : seen;
  }

  /**
   * Forgets uses older than the write interval first: a key used again at least that long after its last
   * write is written again, so for those the database is at most one interval behind.
   */
  private prune(now: number): void {
    for (const [keyId, at] of this.used) if (now - at >= this.intervalMs) this.used.delete(keyId);
    if (this.used.size >= MAX_TRACKED) this.used.clear();
  }
}
