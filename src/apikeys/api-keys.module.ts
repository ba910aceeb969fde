import { Logger, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ACCESS_POLICY } from '../access/access-policy.token';
import type { AccessPolicy } from '../plugins-api';
import { PrincipalsModule } from '../principals/principals.module';
import type { AuthContext } from '../auth/auth-context';
import { CredentialCache, DEFAULT_CACHE_OPTIONS } from '../common/revocation/credential-cache';
import { REVOCATION_BUS, RevocationBus } from '../common/revocation/revocation-bus';
import { RecentKeyUse } from '../principals/recent-key-use';
import { ApiKeyVerifierService } from './api-key-verifier';
import { API_KEY_VERIFIER } from './api-key-verifier.interface';
import { ApiKeyStore } from './api-key.store';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { PrincipalsAdminController } from './principals-admin.controller';
import { PrincipalsAdminService } from './principals-admin.service';

/**
 * API keys of multi-user mode: the `/auth/apikey` and admin `/auth/principal` routes, and the
 * `API_KEY_VERIFIER` the multi-user credential resolver calls for every presented key.
 * Needs the (global) DatabaseModule, APP_CONFIG and REVOCATION_BUS above it (MultiUserAuthModule).
 * The key classes are plain (built here by factories) so their unit specs run without Nest.
 */
@Module({
  imports: [PrincipalsModule],
  controllers: [ApiKeysController, PrincipalsAdminController],
  providers: [
    { provide: ApiKeyStore, useFactory: (dataSource: DataSource) => new ApiKeyStore(dataSource), inject: [getDataSourceToken()] },
    { provide: CredentialCache, useFactory: () => new CredentialCache(DEFAULT_CACHE_OPTIONS) },
    {
      provide: ApiKeyVerifierService,
      useFactory: (store: ApiKeyStore, cache: CredentialCache<AuthContext>, bus: RevocationBus, recentUse: RecentKeyUse) =>
        new ApiKeyVerifierService(store, cache, bus, new Logger('ApiKeys'), recentUse),
      inject: [ApiKeyStore, CredentialCache, REVOCATION_BUS, RecentKeyUse],
    },
    { provide: API_KEY_VERIFIER, useExisting: ApiKeyVerifierService },
    {
      provide: ApiKeysService,
      useFactory: (store: ApiKeyStore, verifier: ApiKeyVerifierService, config: AppConfig, policy: AccessPolicy) =>
        new ApiKeysService(store, verifier, config, new Logger('ApiKeys'), policy),
      inject: [ApiKeyStore, ApiKeyVerifierService, APP_CONFIG, ACCESS_POLICY],
    },
    PrincipalsAdminService,
  ],
  exports: [API_KEY_VERIFIER, ApiKeyVerifierService, ApiKeysService],
})
export class ApiKeysModule {}
