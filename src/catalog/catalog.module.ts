import { DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { CatalogController } from './catalog.controller';

/** Placeholder: the catalog issue replaces this with tree adapters, the demo tree and every read route. */
@Module({})
export class CatalogModule {
  static forRoot(_config: AppConfig): DynamicModule {
    return { module: CatalogModule, controllers: [CatalogController] };
  }
}
