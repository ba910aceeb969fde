import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from './columns';
import { PrincipalEntity } from './principal.entity';

/** A (provider, id) pair that logs in as a principal. */
@Entity({ name: 'identities' })
export class IdentityEntity {
  @PrimaryColumn({ name: 'id', type: 'varchar', length: 255 })
  id!: string;

  @PrimaryColumn({ name: 'provider', type: 'varchar', length: 255 })
  provider!: string;

  @Column({ name: 'principal_id', type: 'integer' })
  principalId!: number;

  @ManyToOne(() => PrincipalEntity, (principal) => principal.identities, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'principal_id' })
  principal!: PrincipalEntity;

  @TimestampColumn({ name: 'latest_login', nullable: true })
  latestLogin!: Date | null;

  @TimestampColumn({ name: 'time_created' })
  timeCreated!: Date;
}
