import { Module } from '@nestjs/common';
import { RecentKeyUse } from './recent-key-use';
import { PrincipalsService } from './principals.service';

/**
 * Needs the (global) DatabaseModule to be imported somewhere above it. RecentKeyUse is here, not in the
 * API-keys module, because principal listings read it and that module imports this one.
 */
@Module({ providers: [PrincipalsService, { provide: RecentKeyUse, useFactory: () => new RecentKeyUse() }], exports: [PrincipalsService, RecentKeyUse] })
export class PrincipalsModule {}
