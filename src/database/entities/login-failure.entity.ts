import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './columns';

/**
 * One password-login throttle counter (src/authn/login-throttle.ts), per account or per client address.
 * In the database rather than process memory so that replicas behind a load balancer share one allowance.
 * Attempts are counted before the password is checked, so `failures` includes attempts still in flight.
 * Rows whose window has passed and whose wait has ended are swept by the session housekeeping.
 */
@Entity({ name: 'login_failures' })
export class LoginFailureEntity {
  /** `account:<SHA-256 of provider and username>` or `address:<client address>`, at most 72 characters. */
  @PrimaryColumn({ name: 'key', type: 'varchar', length: 80 })
  key!: string;

  @Column({ name: 'failures', type: 'integer' })
  failures!: number;

  @Index('ix_login_failures_first_failure_at')
  @TimestampColumn({ name: 'first_failure_at' })
  firstFailureAt!: Date;

  /** Attempts are refused until then; null when no wait is due. */
  @TimestampColumn({ name: 'blocked_until', nullable: true })
  blockedUntil!: Date | null;
}
