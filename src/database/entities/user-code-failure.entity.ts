import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { TimestampColumn } from './columns';

/**
 * One wrong user code typed on the device-code page, by client address. Rows rather than a per-process
 * counter so the per-address limit holds whichever replica serves the form; rows older than the
 * counting window are swept.
 */
@Entity({ name: 'user_code_failures' })
@Index('ix_user_code_failures_address_time', ['address', 'timeCreated'])
export class UserCodeFailureEntity {
  @PrimaryGeneratedColumn({ name: 'id' })
  id!: number;

  @Column({ name: 'address', type: 'varchar', length: 255 })
  address!: string;

  @TimestampColumn({ name: 'time_created' })
  timeCreated!: Date;
}
