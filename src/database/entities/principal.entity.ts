import { Column, Entity, Index, JoinTable, ManyToMany, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from './columns';
import { RoleEntity } from './role.entity';
import { IdentityEntity } from './identity.entity';
import { ApiKeyEntity } from './api-key.entity';
import { SessionEntity } from './session.entity';

export type PrincipalType = 'user' | 'service';

@Entity({ name: 'principals' })
export class PrincipalEntity {
  /** Internal; never exposed. */
  @PrimaryGeneratedColumn({ name: 'id' })
  id!: number;

  /** Public id: hyphenated random v4 UUID. */
  @Index('ix_principals_uuid', { unique: true })
  @Column({ name: 'uuid', type: 'varchar', length: 36 })
  uuid!: string;

  @Column({ name: 'type', type: 'varchar', length: 16 })
  type!: PrincipalType;

  @TimestampColumn({ name: 'time_created' })
  timeCreated!: Date;

  @ManyToMany(() => RoleEntity, { eager: false })
  @JoinTable({
    name: 'principal_role_association',
    joinColumn: { name: 'principal_id', referencedColumnName: 'id' },
    inverseJoinColumn: { name: 'role_id', referencedColumnName: 'id' },
  })
  roles!: RoleEntity[];

  @OneToMany(() => IdentityEntity, (identity) => identity.principal)
  identities!: IdentityEntity[];

  @OneToMany(() => ApiKeyEntity, (key) => key.principal)
  apiKeys!: ApiKeyEntity[];

  @OneToMany(() => SessionEntity, (session) => session.principal)
  sessions!: SessionEntity[];
}
