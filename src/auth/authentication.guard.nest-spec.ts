import 'reflect-metadata';
import { Controller, Get, Module, Post } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import type { FastifyRequest } from 'fastify';
import { TiledExceptionFilter } from '../common/errors/tiled-exception.filter';
import { AuthContext } from './auth-context';
import { Authenticated, CurrentAuth, Public, Scopes } from './auth.decorators';
import { AuthenticationGuard } from './authentication.guard';
import { CREDENTIAL_RESOLVER, CredentialResolver } from './credentials';
import { CredentialsStrategy } from './credentials.strategy';
import { SingleUserCredentialResolver } from './single-user.resolver';
import { nestApp } from '../../test/helpers/nest-app';

/**
 * The global guard inside a real Nest application (Fastify, in-process through `inject`), with the
 * routes a feature module would declare. The single-user resolver is the real one; the "fixed scopes"
 * resolver stands in for the multi-user resolver, whose database is not what is under test here.
 */
@Controller('api/v1')
class ProbeController {
  @Get('open')
  @Public()
  open(): { ok: boolean } {
    return { ok: true };
  }

  @Get('metadata')
  @Scopes(['read:metadata'])
  metadata(@CurrentAuth() auth: AuthContext): { via: string } {
    return { via: auth.via };
  }

  @Post('both')
  @Scopes(['read:metadata', 'write:metadata'])
  both(): { ok: boolean } {
    return { ok: true };
  }

  @Get('whoami')
  @Authenticated()
  whoami(@CurrentAuth() auth: AuthContext): { via: string } {
    return { via: auth.via };
  }

  @Get('forgotten')
  forgotten(): { ok: boolean } {
    return { ok: true };
  }
}

@Controller('api/v1/admin')
@Scopes(['admin:apikeys'])
class ClassScopedController {
  @Get('keys')
  keys(): { ok: boolean } {
    return { ok: true };
  }
}

class FixedScopesResolver implements CredentialResolver {
  constructor(private readonly scopes: string[]) {}

  async resolve(request: FastifyRequest): Promise<AuthContext> {
    if (request.headers.authorization !== 'Apikey fixed') return { principal: null, scopes: new Set(), via: 'anonymous' };
    return {
      principal: { uuid: '00000000-0000-0000-0000-000000000001', type: 'user', identities: [{ id: 'alice', provider: 'toy' }] },
      scopes: new Set(this.scopes),
      via: 'apikey',
    };
  }
}

async function appWith(resolver: CredentialResolver): Promise<NestFastifyApplication> {
  @Module({
    controllers: [ProbeController, ClassScopedController],
    providers: [
      CredentialsStrategy,
      { provide: CREDENTIAL_RESOLVER, useValue: resolver },
      { provide: APP_GUARD, useClass: AuthenticationGuard },
      { provide: APP_FILTER, useClass: TiledExceptionFilter },
    ],
  })
  class ProbeModule {}

  return nestApp(ProbeModule, (app) => app.register(fastifyCookie));
}

describe('AuthenticationGuard in a Nest application', () => {
  describe('single-user key', () => {
    const KEY = 'secret-single-user-key';
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await appWith(new SingleUserCredentialResolver(KEY, false));
    });
    afterAll(() => app.close());

    it('lets anyone reach a @Public route', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/open' });
      expect(response.statusCode).toBe(200);
    });

    it('asks an anonymous caller to authenticate, naming the scope it needs', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/metadata' });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ detail: 'Not authenticated' });
      expect(response.headers['www-authenticate']).toBe('Bearer scope="read:metadata"');
    });

    it('admits the key from the header and from the URL, and remembers a URL key as a cookie', async () => {
      const header = await app.inject({ method: 'GET', url: '/api/v1/metadata', headers: { authorization: `Apikey ${KEY}` } });
      expect(header.statusCode).toBe(200);
      expect(header.json()).toEqual({ via: 'single-user' });
      expect(header.headers['set-cookie']).toBeUndefined();

      const query = await app.inject({ method: 'GET', url: `/api/v1/metadata?api_key=${KEY}` });
      expect(query.statusCode).toBe(200);
      expect(String(query.headers['set-cookie'])).toContain(`tiled_api_key=${KEY}`);
    });

    it('refuses a wrong key outright instead of treating the caller as anonymous', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/open?api_key=wrong' });
      expect(response.statusCode).toBe(200);
      const scoped = await app.inject({ method: 'GET', url: '/api/v1/metadata', headers: { authorization: 'Apikey wrong' } });
      expect(scoped.statusCode).toBe(401);
      expect(scoped.json()).toEqual({ detail: 'Invalid API key' });
    });

    it('closes a route that declares neither @Public, @Authenticated nor @Scopes', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/forgotten', headers: { authorization: `Apikey ${KEY}` } });
      expect(response.statusCode).toBe(403);
      expect(response.json().detail).toMatch(/declares no permissions/);
    });

    it('requires a credential, but no scope, on an @Authenticated route', async () => {
      expect((await app.inject({ method: 'GET', url: '/api/v1/whoami' })).statusCode).toBe(401);
      const response = await app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { authorization: `Apikey ${KEY}` } });
      expect(response.statusCode).toBe(200);
    });
  });

  describe('a credential holding only some scopes', () => {
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await appWith(new FixedScopesResolver(['read:metadata']));
    });
    afterAll(() => app.close());

    it('needs every listed scope, and says which it had, in Tiled’s words', async () => {
      const response = await app.inject({ method: 'POST', url: '/api/v1/both', headers: { authorization: 'Apikey fixed' } });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({
        detail: "Not enough permissions. Requires scopes ['read:metadata', 'write:metadata']. Request had scopes ['read:metadata']",
      });
      expect(response.headers['www-authenticate']).toBe('Bearer scope="read:metadata write:metadata"');
    });

    it('applies class-level scopes to every handler of the controller', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/admin/keys', headers: { authorization: 'Apikey fixed' } });
      expect(response.statusCode).toBe(401);
      expect(response.json().detail).toContain("Requires scopes ['admin:apikeys']");
    });

    it('admits the route whose one scope it holds', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/metadata', headers: { authorization: 'Apikey fixed' } });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ via: 'apikey' });
    });
  });
});
