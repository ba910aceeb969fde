import { DynamicModule, Module } from '@nestjs/common';
import { CatalogDataService } from './catalog-data.service';
import { CatalogController } from './catalog.controller';
import { CATALOG_ROOT, CatalogService } from './catalog.service';
import type { TreeNode } from './tree/tree.types';
import { CatalogDataWriteService } from './writable/catalog-data-write.service';
import { CatalogWriteController } from './writable/catalog-write.controller';
import { CatalogWriteService } from './writable/catalog-write.service';

/**
 * The catalog: tree adapters and every read route. The trees are resolved before the app is built
 * (validateDeployment), so a bad `trees[].tree` is a ConfigError before anything opens or listens.
 */
@Module({})
export class CatalogModule {
  static forRoot(root: TreeNode): DynamicModule {
    return {
      module: CatalogModule,
      controllers: [CatalogController, CatalogWriteController],
      providers: [{ provide: CATALOG_ROOT, useValue: root }, CatalogService, CatalogDataService, CatalogWriteService, CatalogDataWriteService],
      exports: [CatalogService],
    };
  }
}
