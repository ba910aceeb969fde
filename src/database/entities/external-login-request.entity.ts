import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './columns';

/**
 * An OAuth2/OIDC authorization request between `/authorize` and the provider's redirect back. In the
 * database rather than process memory so that any replica can accept the callback. Single use: the
 * callback deletes the row with a conditional DELETE, so two replicas cannot both accept one `state`.
 */
@Entity({ name: 'external_login_requests' })
@Index('ix_external_login_requests_address_expiration', ['clientAddress', 'expirationTime'])
@Index('ix_external_login_requests_provider_expiration', ['provider', 'expirationTime'])
export class ExternalLoginRequestEntity {
  /** Hex SHA-256 of the `state` sent to the provider; the state itself is never stored. */
  @PrimaryColumn({ name: 'hashed_state', type: 'varchar', length: 64 })
  hashedState!: string;

  @Column({ name: 'provider', type: 'varchar', length: 255 })
  provider!: string;

  /** `browser` (answers at `/code`) or `device` (completes a device-code request at `/device_code`). */
  @Column({ name: 'purpose', type: 'varchar', length: 16 })
  purpose!: string;

  /**
   * PKCE verifier. Stored as is because the token request needs it; it is worthless without the
   * authorization code, which only ever travels through the user's browser.
   */
  @Column({ name: 'code_verifier', type: 'varchar', length: 128 })
  codeVerifier!: string;

  @Column({ name: 'nonce', type: 'varchar', length: 128 })
  nonce!: string;

  /** The redirect URI sent to the provider; the token request must repeat it exactly. */
  @Column({ name: 'redirect_uri', type: 'text' })
  redirectUri!: string;

  /** The `?state=` the caller of `/authorize` gave, handed back with `redirect_on_success`. */
  @Column({ name: 'client_state', type: 'text', nullable: true })
  clientState!: string | null;

  /** Device flow: the device-code request this login completes. */
  @Column({ name: 'hashed_device_code', type: 'varchar', length: 64, nullable: true })
  hashedDeviceCode!: string | null;

  /** Who started the login (IPv6: the /64), for the per-address cap; empty for rows older than the column. */
  @Column({ name: 'client_address', type: 'varchar', length: 64, default: '' })
  clientAddress!: string;

  /** Wrong user codes entered against this login so far. */
  @Column({ name: 'failed_attempts', type: 'integer', default: 0 })
  failedAttempts!: number;

  @Index('ix_external_login_requests_expiration_time')
  @TimestampColumn({ name: 'expiration_time' })
  expirationTime!: Date;

  @TimestampColumn({ name: 'time_created' })
  timeCreated!: Date;
}
