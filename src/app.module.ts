import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { AboutController } from './about/about.controller';
import { AuthenticationGuard } from './auth/authentication.guard';
import { CredentialsStrategy } from './auth/credentials.strategy';
import { SingleUserAuthModule } from './auth/single-user-auth.module';
import { CatalogModule } from './catalog/catalog.module';
import { ZarrHttpModule } from './zarr-http/zarr-http.module';
import type { TreeNode } from './catalog/tree/tree.types';
import { TiledExceptionFilter } from './common/errors/tiled-exception.filter';
import { TiledValidationPipe } from './common/validation/tiled-validation.pipe';
import { APP_CONFIG, AppConfig, isSingleUser, metricsEnabled } from './config/app-config';
import { MetricsModule } from './metrics/metrics.module';
import { OpenApiModule } from './openapi/openapi.module';
import { ACCESS_POLICY } from './access/access-policy.token';
import type { AccessPolicy } from './plugins-api';

export interface AppModuleOptions {
  config: AppConfig;
  /** The effective single-user key (single-user mode only). */
  singleUserApiKey?: string;
  /** MultiUserAuthModule.forRootAsync(...) (multi-user mode only), imported lazily by createApp. */
  multiUserAuth?: DynamicModule;
  /** The trees of the config, loaded by validateDeployment before the app is built. */
  catalogRoot: TreeNode;
  /** The access policy validateDeployment loaded (allow-all without `access_control:`). */
  accessPolicy: AccessPolicy;
}

/** The only place modules are wired. Which authentication module is loaded depends on the mode. */
@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    const { config } = options;
    const authModule = isSingleUser(config)
      ? SingleUserAuthModule.forRoot(requireKey(options.singleUserApiKey), config.authentication.allow_anonymous_access)
      : requireModule(options.multiUserAuth);
    const catalog = CatalogModule.forRoot(options.catalogRoot, { explain: !isSingleUser(config) });
    return {
      module: AppModule,
      imports: [
        PassportModule,
        authModule,
        catalog,
        ZarrHttpModule.forCatalog(catalog),
        ...(metricsEnabled(config) ? [MetricsModule.forRoot(config)] : []),
        OpenApiModule,
      ],
      controllers: [AboutController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: ACCESS_POLICY, useValue: options.accessPolicy },
        CredentialsStrategy,
        { provide: APP_GUARD, useClass: AuthenticationGuard },
        { provide: APP_FILTER, useClass: TiledExceptionFilter },
        { provide: APP_PIPE, useClass: TiledValidationPipe },
      ],
      exports: [APP_CONFIG, ACCESS_POLICY],
      global: true,
    };
  }
}

function requireKey(key: string | undefined): string {
  if (!key) throw new Error('Single-user mode needs its API key');
  return key;
}

function requireModule(module: DynamicModule | undefined): DynamicModule {
  if (!module) throw new Error('Multi-user mode needs its authentication module');
  return module;
}
