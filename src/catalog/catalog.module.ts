import { DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { CatalogDataService } from './catalog-data.service';
import { CatalogController } from './catalog.controller';
import { CATALOG_ROOT, CatalogService } from './catalog.service';
import { resolveTrees } from './tree/tree-loader';

/**
 * The catalog: tree adapters and every read route. Trees are resolved in an async provider so a bad
 * `trees[].tree` fails createApp() — before the server listens — with a ConfigError.
 */
@Module({})
export class CatalogModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CatalogModule,
      controllers: [CatalogController],
      providers: [{ provide: CATALOG_ROOT, useFactory: () => resolveTrees(config) }, CatalogService, CatalogDataService],
      exports: [CatalogService],
    };
  }
}
