import { DynamicModule, Module } from '@nestjs/common';
import { ABOUT_PROVIDERS } from '../about/about.providers';
import { CREDENTIAL_RESOLVER } from '../auth/credentials';
import { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';
import { PrincipalsModule } from '../principals/principals.module';
import { ApiKeysModule } from '../apikeys/api-keys.module';
import { RegistryAboutProviders } from './about-providers.source';
import { AuthnController } from './authn.controller';
import { AccountThrottle, AddressThrottle, LoginService } from './login.service';
import { MultiUserCredentialResolver } from './multi-user.resolver';
import { RevokedSessions } from './revoked-sessions';
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
        SessionsService,
        LoginService,
        AccountThrottle,
        AddressThrottle,
        { provide: CREDENTIAL_RESOLVER, useClass: MultiUserCredentialResolver },
        { provide: ABOUT_PROVIDERS, useValue: new RegistryAboutProviders(registry) },
      ],
      exports: [CREDENTIAL_RESOLVER, ABOUT_PROVIDERS, SessionsService, AuthenticatorRegistry, TOKEN_SERVICE, PrincipalsModule],
    };
  }
}
