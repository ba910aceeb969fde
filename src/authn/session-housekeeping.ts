import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { PlainLogger } from '../common/logging/plain-logger';
import { SessionEntity } from '../database/entities';
import { deleteForgottenCounters } from './login-throttle.store';

export const DEFAULT_HOUSEKEEPING_INTERVAL_MS = 600_000;

export interface HousekeepingResult {
  sessions: number;
  /** Login-throttle counters whose window has passed and whose wait has ended. */
  loginFailures: number;
}

/**
 * Deletes sessions past their expiration or revoked, and login-throttle counters that count for nothing any more,
 * every `intervalMs`. API-key rows are never deleted here: revoked and expired keys stay for audit
 * (STYLE §8). Pending external logins are swept by their own store (src/external-login), which knows
 * their lifetimes.
 * The timer is unref'd so it never keeps a finishing process (a CLI command, a test) alive.
 */
export class SessionHousekeeping implements OnModuleInit, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<HousekeepingResult> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: PlainLogger,
    private readonly intervalMs: number = DEFAULT_HOUSEKEEPING_INTERVAL_MS,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  onModuleInit(): void {
    this.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.stop();
    // Let a sweep in flight finish before the data source closes under it.
    await this.running?.catch(() => undefined);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweepLogged(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sweep; a sweep still running is joined rather than doubled. */
  sweep(): Promise<HousekeepingResult> {
    if (!this.running) {
      this.running = this.deleteExpired().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async sweepLogged(): Promise<void> {
    try {
      const result = await this.sweep();
      if (result.sessions > 0 || result.loginFailures > 0) {
        this.logger.log(`Housekeeping: deleted ${result.sessions} expired or revoked session(s) and ${result.loginFailures} stale login-failure counter(s)`);
      }
    } catch (error) {
      // A failed sweep (database briefly away) is retried at the next tick; it must not crash the server.
      this.logger.warn(`Housekeeping failed, will retry: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async deleteExpired(): Promise<HousekeepingResult> {
    const now = this.clock().getTime();
    const deleted = await this.dataSource
      .createQueryBuilder()
      .delete()
      .from(SessionEntity)
      // A revoked session can never work again (refresh and access both refuse it, and a missing row is
      // refused the same way), so keeping it would only let logouts pile up against the session cap.
      .where('expiration_time <= :now OR revoked = :revoked', { now, revoked: true })
      .execute();
    return { sessions: deleted.affected ?? 0, loginFailures: await deleteForgottenCounters(this.dataSource, now) };
  }
}
