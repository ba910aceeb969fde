import { DynamicModule, InjectionToken, Module, ModuleMetadata } from '@nestjs/common';
import { DEVICE_CODE_POLLER } from '../authn/device-code-poller';
import { ExternalLoginController } from './external-login.controller';
import {
  EXTERNAL_AUTHENTICATORS,
  EXTERNAL_LOGIN_OPTIONS,
  ExternalAuthenticators,
  ExternalLoginOptions,
  ExternalLoginService,
  IDENTITY_LOGIN,
} from './external-login.service';
import { ExternalLoginStore } from './external-login.store';

export interface ExternalLoginModuleOptions extends ExternalLoginOptions {
  /** The plugin host's registry (anything with `external(provider)`). */
  authenticators: ExternalAuthenticators;
  /** Modules exporting the identity-login provider (e.g. the sessions module). */
  imports?: ModuleMetadata['imports'];
  /** The injection token of the class implementing `IdentityLogin` (e.g. SessionsService). */
  identityLogin: InjectionToken;
}

/**
 * The host side of external (OAuth2/OIDC) login: the `/auth/provider/{p}/…` routes of external providers,
 * the state/PKCE/nonce and device-code store, and the DEVICE_CODE_POLLER the authn token route hands
 * device-code polls to. Imported by AuthnModule (MultiUserAuthModule configures it); the form body parser
 * its device-code page needs is registered at bootstrap with the others (src/common/http/json-limits.ts).
 */
@Module({})
export class ExternalLoginModule {
  static forRoot(options: ExternalLoginModuleOptions): DynamicModule {
    return {
      module: ExternalLoginModule,
      imports: options.imports ?? [],
      controllers: [ExternalLoginController],
      providers: [
        ExternalLoginStore,
        ExternalLoginService,
        { provide: EXTERNAL_AUTHENTICATORS, useValue: options.authenticators },
        { provide: EXTERNAL_LOGIN_OPTIONS, useValue: { publicBaseUrl: options.publicBaseUrl, pendingLoginCaps: options.pendingLoginCaps } satisfies ExternalLoginOptions },
        { provide: IDENTITY_LOGIN, useExisting: options.identityLogin },
        { provide: DEVICE_CODE_POLLER, useExisting: ExternalLoginService },
      ],
      exports: [ExternalLoginService, DEVICE_CODE_POLLER],
    };
  }
}
