import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationBootstrap } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AuthnModule } from '../authn/authn.module';
import { SessionsService } from '../authn/sessions.service';
import { LocalRevocationBus, PostgresRevocationBus, REVOCATION_BUS, RevocationBus } from '../common/revocation/revocation-bus';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DatabaseModule } from '../database/database.module';
import { ExternalLoginModule } from '../external-login/external-login.module';
import type { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';
import { PrincipalsModule } from '../principals/principals.module';
import { PrincipalsService } from '../principals/principals.service';

/** What validateDeployment loaded before Nest starts (a plugin problem is a startup error, exit 2). */
export interface PreloadedAuth {
  authenticators: AuthenticatorRegistry;
}

/** `tiled_admins`: granted at every startup, before the server answers, as Tiled. Removing a name does not take the role away. */
@Injectable()
export class AdminGrants implements OnApplicationBootstrap {
  constructor(
    private readonly principals: PrincipalsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const admin of this.config.authentication.tiled_admins) await this.principals.makeAdmin(admin.provider, admin.id);
  }
}

/**
 * Everything multi-user authentication needs, in one module: the database, the plugins registry, principals,
 * logins and sessions (AuthnModule), API keys (imported by AuthnModule), external login, and the one
 * revocation bus their credential caches share. Every piece is built by Nest from the config through
 * factories; docs/architecture.md has the map.
 */
@Module({})
export class MultiUserAuthModule {
  static forRootAsync(config: AppConfig, preloaded: PreloadedAuth): DynamicModule {
    const registry = preloaded.authenticators;
    return {
      module: MultiUserAuthModule,
      global: true,
      imports: [
        DatabaseModule.forRootAsync(config.database),
        PrincipalsModule,
        AuthnModule.forRoot({
          registry,
          deviceCodes: ExternalLoginModule.forRoot({
            authenticators: registry,
            // AuthnModule is global: SessionsService is visible here without importing it (that would be a cycle).
            identityLogin: SessionsService,
            publicBaseUrl: config.authentication.public_base_url,
            pendingLoginCaps: {
              perAddress: config.authentication.pending_logins_per_address,
              perProvider: config.authentication.pending_logins_per_provider,
            },
          }),
        }),
      ],
      providers: [
        {
          // One per process: on PostgreSQL, one LISTEN connection serves the API-key and session caches.
          provide: REVOCATION_BUS,
          useFactory: (dataSource: DataSource): RevocationBus =>
            dataSource.options.type === 'postgres' ? new PostgresRevocationBus(dataSource, new Logger('Revocations')) : new LocalRevocationBus(),
          inject: [getDataSourceToken()],
        },
        AdminGrants,
      ],
      exports: [REVOCATION_BUS, AuthnModule],
    };
  }
}
