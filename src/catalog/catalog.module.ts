import { DynamicModule, Module, OnApplicationShutdown } from '@nestjs/common';
import { CatalogDataService } from './catalog-data.service';
import { CatalogController } from './catalog.controller';
import { CATALOG_ROOT, CatalogService } from './catalog.service';
import type { TreeNode } from './tree/tree.types';
import { CatalogDataWriteService } from './writable/catalog-data-write.service';
import { CatalogWriteController } from './writable/catalog-write.controller';
import { CatalogWriteService } from './writable/catalog-write.service';
import { RegisterController } from './writable/register.controller';
import { RegisterService } from './writable/register.service';
import { AssetsService } from './writable/assets.service';
import { closeCatalogs } from './writable/catalog-handle';
import { NodeAccessService } from './access/node-access';
import { ExplainController } from './access/explain.controller';
import { ExplainService } from './access/explain.service';

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

  /** `explain`: serve `GET /api/v1/auth/explain` (multi-user mode, where the other /auth routes are). */
  static forRoot(root: TreeNode, options: { explain?: boolean } = {}): DynamicModule {
    return {
      module: CatalogModule,
      controllers: [CatalogController, CatalogWriteController, RegisterController, ...(options.explain ? [ExplainController] : [])],
      providers: [
        { provide: CATALOG_ROOT, useValue: root },
        NodeAccessService,
        CatalogService,
        CatalogDataService,
        CatalogWriteService,
        CatalogDataWriteService,
        RegisterService,
        AssetsService,
        ExplainService,
      ],
      exports: [CatalogService],
    };
  }
}
