import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from './columns';

/** The verified identity a browser step leaves for the polling terminal (no token, no provider secret). */
export interface CompletedDeviceIdentity {
  id: string;
  state?: Record<string, unknown>;
}

/**
 * A device-code login (`tiled login` with an external provider): started and polled by a terminal,
 * completed in a browser, possibly each on a different replica. Both codes are stored as SHA-256 only.
 *
 * Completion stores the identity the provider vouched for, not tokens: the poll that claims the row
 * (a conditional DELETE, so exactly one poll wins) opens the session then, and no refresh token ever
 * sits in the database. (This replaces Tiled's `pending_sessions` table, which has no room for the
 * growing `slow_down` interval and ties a pending login to a session before the user has finished.)
 */
@Entity({ name: 'device_login_requests' })
export class DeviceLoginRequestEntity {
  /** Hex SHA-256 of the device code. */
  @PrimaryColumn({ name: 'hashed_device_code', type: 'varchar', length: 64 })
  hashedDeviceCode!: string;

  /** Hex SHA-256 of the normalised user code (upper-case, no dash); unique so a code names one request. */
  @Index('ix_device_login_requests_hashed_user_code', { unique: true })
  @Column({ name: 'hashed_user_code', type: 'varchar', length: 64 })
  hashedUserCode!: string;

  @Column({ name: 'provider', type: 'varchar', length: 255 })
  provider!: string;

  /** The polling interval the client must keep; each `slow_down` adds 5 s (RFC 8628 §3.5). */
  @Column({ name: 'interval_ms', type: 'integer' })
  intervalMs!: number;

  @TimestampColumn({ name: 'last_polled_at', nullable: true })
  lastPolledAt!: Date | null;

  /** Set once, by the browser step; the next poll turns it into a session. */
  @JsonColumn({ name: 'identity', nullable: true })
  identity!: CompletedDeviceIdentity | null;

  @Index('ix_device_login_requests_expiration_time')
  @TimestampColumn({ name: 'expiration_time' })
  expirationTime!: Date;

  @TimestampColumn({ name: 'time_created' })
  timeCreated!: Date;
}
