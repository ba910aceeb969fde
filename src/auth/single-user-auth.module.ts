import { DynamicModule, Module } from '@nestjs/common';
import { ABOUT_PROVIDERS, NO_PROVIDERS } from '../about/about.providers';
import { CREDENTIAL_RESOLVER } from './credentials';
import { SingleUserCredentialResolver } from './single-user.resolver';

/** Single-user mode: no database, no /auth routes, one key. */
@Module({})
export class SingleUserAuthModule {
  static forRoot(apiKey: string, allowAnonymousAccess: boolean): DynamicModule {
    return {
      module: SingleUserAuthModule,
      global: true,
      providers: [
        { provide: CREDENTIAL_RESOLVER, useValue: new SingleUserCredentialResolver(apiKey, allowAnonymousAccess) },
        { provide: ABOUT_PROVIDERS, useValue: NO_PROVIDERS },
      ],
      exports: [CREDENTIAL_RESOLVER, ABOUT_PROVIDERS],
    };
  }
}
