import { DynamicModule, Logger, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ABOUT_PROVIDERS } from '../about/about.providers';
import { CREDENTIAL_RESOLVER } from '../auth/credentials';
import { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';
import { PrincipalsModule } from '../principals/principals.module';
import { PrincipalsService } from '../principals/principals.service';
import { LocalRevocationBus, PostgresRevocationBus, RevocationBus } from '../common/revocation/revocation-bus';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ApiKeysModule } from '../apikeys/api-keys.module';
import { RegistryAboutProviders } from './about-providers.source';
import { AuthnController } from './authn.controller';
import { LoginThrottle } from './login-throttle';
import { LoginThrottleStore } from './login-throttle.store';
import { LoginService } from './login.service';
import { MultiUserCredentialResolver } from './multi-user.resolver';
import { RevokedSessions } from './revoked-sessions';
import { SessionAccessService } from './session-access';
import { SessionHousekeeping } from './session-housekeeping';
import { SessionsService, TOKEN_SERVICE } from './sessions.service';
import { TokenService } from './token.service';

/** Logins, sessions, tokens and the multi-user credential resolver. Needs the global DatabaseModule and APP_CONFIG. */
@Module({})
export class AuthnModule {
  static forRoot(registry: AuthenticatorRegistry, tokens: TokenService): DynamicModule {
    return {
      module: AuthnModule,
      global: true,
      imports: [PrincipalsModule, ApiKeysModule],
      controllers: [AuthnController],
      providers: [
        { provide: AuthenticatorRegistry, useValue: registry },
        { provide: TOKEN_SERVICE, useValue: tokens },
        RevokedSessions,
        {
          provide: SessionAccessService,
          useFactory: (dataSource: DataSource, principals: PrincipalsService, revoked: RevokedSessions, config: AppConfig) => {
            const logger = new Logger('Sessions');
            // Same bus class (and channel) as API-key revocations; its own listening connection.
            const bus: RevocationBus = dataSource.options.type === 'postgres' ? new PostgresRevocationBus(dataSource, logger) : new LocalRevocationBus();
            return new SessionAccessService(dataSource, principals, revoked, bus, logger, config.authentication.access_token_max_age * 1000);
          },
          inject: [getDataSourceToken(), PrincipalsService, RevokedSessions, APP_CONFIG],
        },
        {
          provide: SessionHousekeeping,
          useFactory: (dataSource: DataSource) => new SessionHousekeeping(dataSource, new Logger('Housekeeping')),
          inject: [getDataSourceToken()],
        },
        SessionsService,
        LoginService,
        {
          provide: LoginThrottle,
          useFactory: (dataSource: DataSource) => new LoginThrottle(new LoginThrottleStore(dataSource)),
          inject: [getDataSourceToken()],
        },
        { provide: CREDENTIAL_RESOLVER, useClass: MultiUserCredentialResolver },
        { provide: ABOUT_PROVIDERS, useValue: new RegistryAboutProviders(registry) },
      ],
      exports: [CREDENTIAL_RESOLVER, ABOUT_PROVIDERS, SessionsService, AuthenticatorRegistry, TOKEN_SERVICE, PrincipalsModule],
    };
  }
}
