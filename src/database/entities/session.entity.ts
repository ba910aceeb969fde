import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from './columns';
import { PrincipalEntity } from './principal.entity';

/**
 * A login session. Refresh tokens rotate: `refresh_token_id` names the one refresh token that may be
 * used next (beyond Tiled); presenting an older one revokes the whole session (reuse detection).
 */
@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryGeneratedColumn({ name: 'id' })
  id!: number;

  /** Public id; the `sid` claim carries it as 32 hex chars. */
  @Index('ix_sessions_uuid', { unique: true })
  @Column({ name: 'uuid', type: 'varchar', length: 36 })
  uuid!: string;

  @TimestampColumn({ name: 'time_last_refreshed', nullable: true })
  timeLastRefreshed!: Date | null;

  @Column({ name: 'refresh_count', type: 'integer', default: 0 })
  refreshCount!: number;

  /** Hard limit: creation + session_max_age. */
  @TimestampColumn({ name: 'expiration_time' })
  expirationTime!: Date;

  @Column({ name: 'principal_id', type: 'integer' })
  principalId!: number;

  @ManyToOne(() => PrincipalEntity, (principal) => principal.sessions, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'principal_id' })
  principal!: PrincipalEntity;

  @Column({ name: 'revoked', type: 'boolean', default: false })
  revoked!: boolean;

  /** Authenticator-supplied state, embedded in access tokens. */
  @JsonColumn({ name: 'state' })
  state!: Record<string, unknown>;

  /** Id (jti) of the refresh token that may be used next; older ones are replays. */
  @Column({ name: 'refresh_token_id', type: 'varchar', length: 64, nullable: true })
  refreshTokenId!: string | null;

  /** The previous refresh token id and when it was replaced, for the short concurrent-duplicate grace window. */
  @Column({ name: 'previous_refresh_token_id', type: 'varchar', length: 64, nullable: true })
  previousRefreshTokenId!: string | null;

  @TimestampColumn({ name: 'refresh_token_rotated_at', nullable: true })
  refreshTokenRotatedAt!: Date | null;

  @TimestampColumn({ name: 'time_created' })
  timeCreated!: Date;
}
