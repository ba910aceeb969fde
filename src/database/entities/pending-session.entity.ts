import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './columns';
import { SessionEntity } from './session.entity';

/** Device-code flow: a login started on a terminal and completed in a browser. Codes are stored hashed. */
@Entity({ name: 'pending_sessions' })
export class PendingSessionEntity {
  /** Hex SHA-256 of the device code. */
  @PrimaryColumn({ name: 'hashed_device_code', type: 'varchar', length: 64 })
  hashedDeviceCode!: string;

  /** Hex SHA-256 of the normalised user code (upper-case, no dash). */
  @Index('ix_pending_sessions_hashed_user_code', { unique: true })
  @Column({ name: 'hashed_user_code', type: 'varchar', length: 64 })
  hashedUserCode!: string;

  @Column({ name: 'provider', type: 'varchar', length: 255 })
  provider!: string;

  @TimestampColumn({ name: 'expiration_time' })
  expirationTime!: Date;

  /** When the client last polled, for `slow_down`. */
  @TimestampColumn({ name: 'last_polled_at', nullable: true })
  lastPolledAt!: Date | null;

  @Column({ name: 'session_id', type: 'integer', nullable: true })
  sessionId!: number | null;

  @ManyToOne(() => SessionEntity, { nullable: true, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session!: SessionEntity | null;

  @TimestampColumn({ name: 'time_created' })
  timeCreated!: Date;
}
