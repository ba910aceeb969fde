import { DynamicModule, InjectionToken, Logger, Module, ModuleMetadata, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { parse as parseQueryString } from 'node:querystring';
import type { FastifyInstance } from 'fastify';
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
 * the state/PKCE/nonce and device-code store. Imported by the multi-user authentication module.
 */
@Module({})
export class ExternalLoginModule implements OnModuleInit {
  private readonly logger = new Logger('ExternalLogin');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

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
      ],
      exports: [ExternalLoginService],
    };
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    // The device-code page posts an HTML form; registered only if no one else (the password route) did.
    if (!fastify.hasContentTypeParser('application/x-www-form-urlencoded')) {
      fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
        done(null, parseQueryString(String(body)));
      });
    }
    this.logger.debug('External login routes ready');
  }
}
