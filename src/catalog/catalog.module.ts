import { DynamicModule, Module, OnApplicationShutdown } from '@nestjs/common';
import { CatalogDataService } from './catalog-data.service';
import { CatalogController } from './catalog.controller';
import { CATALOG_ROOT, CatalogService } from './catalog.service';
import type { TreeNode } from './tree/tree.types';
import { CatalogDataWriteService } from './writable/catalog-data-write.service';
import { CatalogWriteController } from './writable/catalog-write.controller';
import { CatalogWriteService } from './writable/catalog-write.service';
import { closeCatalogs } from './writable/catalog-handle';

/**
 * The catalog: tree adapters and every read route. The trees are resolved before the app is built
 * (validateDeployment), so a bad `trees[].tree` is a ConfigError before anything opens or listens.
 */
@Module({})
export class CatalogModule implements OnApplicationShutdown {
  /** Catalog databases and SQL storage pools are opened with the trees, before Nest; they close with the app. */
  async onApplicationShutdown(): Promise<void> {
    await closeCatalogs();
  }

  static forRoot(root: TreeNode): DynamicModule {
    return {
      module: CatalogModule,
      controllers: [CatalogController, CatalogWriteController],
      providers: [{ provide: CATALOG_ROOT, useValue: root }, CatalogService, CatalogDataService, CatalogWriteService, CatalogDataWriteService],
      exports: [CatalogService],
    };
  }
}
