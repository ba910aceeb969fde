import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { JsonColumn, TimestampColumn } from './columns';

@Entity({ name: 'roles' })
export class RoleEntity {
  @PrimaryGeneratedColumn({ name: 'id' })
  id!: number;

  @Index('ix_roles_name', { unique: true })
  @Column({ name: 'name', type: 'varchar', length: 255 })
  name!: string;

  @Column({ name: 'description', type: 'varchar', length: 1023, nullable: true })
  description!: string | null;

  /** Scope names, validated against the registry when seeded. */
  @JsonColumn({ name: 'scopes' })
  scopes!: string[];

  @TimestampColumn({ name: 'time_created' })
  timeCreated!: Date;
}
