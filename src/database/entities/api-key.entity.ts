import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from './columns';
import { PrincipalEntity } from './principal.entity';

/**
 * Only the SHA-256 of the secret's raw bytes is stored, never the secret.
 * `first_eight` is unique server-wide so revoking by it is never ambiguous.
 * Revocation keeps the row (audit) with `revoked_at` set; such a row never authenticates again.
 */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn({ name: 'id' })
  id!: number;

  @Index('ix_api_keys_first_eight', { unique: true })
  @Column({ name: 'first_eight', type: 'varchar', length: 8 })
  firstEight!: string;

  /** Hex of SHA-256(raw secret bytes), 64 chars (hex rather than a blob: portable and indexable on both engines). */
  @Index('ix_api_keys_hashed_secret', { unique: true })
  @Column({ name: 'hashed_secret', type: 'varchar', length: 64 })
  hashedSecret!: string;

  @TimestampColumn({ name: 'expiration_time', nullable: true })
  expirationTime!: Date | null;

  @TimestampColumn({ name: 'latest_activity', nullable: true })
  latestActivity!: Date | null;

  @Column({ name: 'note', type: 'varchar', length: 1023, nullable: true })
  note!: string | null;

  /** As requested; may contain the meta-scope `inherit`. */
  @JsonColumn({ name: 'scopes' })
  scopes!: string[];

  @JsonColumn({ name: 'access_tags', nullable: true })
  accessTags!: string[] | null;

  /** The subtree the key is bound to (`/beamline/2026-03`), beyond Tiled; null: the whole catalog. */
  @Column({ name: 'path', type: 'varchar', length: 1023, nullable: true })
  path!: string | null;

  @Column({ name: 'principal_id', type: 'integer' })
  principalId!: number;

  @ManyToOne(() => PrincipalEntity, (principal) => principal.apiKeys, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'principal_id' })
  principal!: PrincipalEntity;

  @TimestampColumn({ name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @TimestampColumn({ name: 'time_created' })
  timeCreated!: Date;
}
