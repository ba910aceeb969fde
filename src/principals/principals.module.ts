import { Module } from '@nestjs/common';
import { PrincipalsService } from './principals.service';

/** Needs the (global) DatabaseModule to be imported somewhere above it. */
@Module({ providers: [PrincipalsService], exports: [PrincipalsService] })
export class PrincipalsModule {}
