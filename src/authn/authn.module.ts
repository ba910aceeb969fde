import { DynamicModule, Logger, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { ABOUT_PROVIDERS } from '../about/about.providers';
import { CREDENTIAL_RESOLVER } from '../auth/credentials';
import { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';
import { PrincipalsModule } from '../principals/principals.module';
import { PrincipalsService } from '../principals/principals.service';
import { REVOCATION_BUS, RevocationBus } from '../common/revocation/revocation-bus';
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

export interface AuthnModuleOptions {
  /** The started authenticators (validateDeployment loads them before Nest). */
  registry: AuthenticatorRegistry;
  /** The module providing DEVICE_CODE_POLLER (external login), if any. */
  deviceCodes?: DynamicModule;
}

/**
 * Logins, sessions, tokens and the multi-user credential resolver, which checks API keys through
 * ApiKeysModule's API_KEY_VERIFIER. Needs the global DatabaseModule, APP_CONFIG and REVOCATION_BUS
 * (MultiUserAuthModule). Global: the external-login module signs users in through SessionsService.
 */
@Module({})
export class AuthnModule {
  static forRoot(options: AuthnModuleOptions): DynamicModule {
    const { registry } = options;
    return {
      module: AuthnModule,
      global: true,
      imports: [PrincipalsModule, ApiKeysModule, ...(options.deviceCodes ? [options.deviceCodes] : [])],
      controllers: [AuthnController],
      providers: [
        { provide: AuthenticatorRegistry, useValue: registry },
        { provide: TOKEN_SERVICE, useFactory: (config: AppConfig) => new TokenService(signingSecrets(config)), inject: [APP_CONFIG] },
        RevokedSessions,
        {
          provide: SessionAccessService,
          useFactory: (dataSource: DataSource, principals: PrincipalsService, revoked: RevokedSessions, bus: RevocationBus, config: AppConfig) =>
            new SessionAccessService(dataSource, principals, revoked, bus, new Logger('Sessions'), config.authentication.access_token_max_age * 1000),
          inject: [getDataSourceToken(), PrincipalsService, RevokedSessions, REVOCATION_BUS, APP_CONFIG],
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

/** The configured token-signing keys, or (warned about) a random one for this process. */
function signingSecrets(config: AppConfig): string[] {
  const secrets = config.authentication.secret_keys?.filter((key) => key !== '') ?? [];
  if (secrets.length > 0) return secrets;
  new Logger('Authentication').warn(
    'No authentication.secret_keys (or TILED_SECRET_KEYS) configured: using a random key for this process. Everyone is logged out when the server restarts, and replicas cannot verify each other\'s tokens.',
  );
  return [TokenService.randomSecret()];
}
