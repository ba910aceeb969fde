import 'reflect-metadata';
import { Body, Controller, Get, Module, NotFoundException, Post } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { installBodyLimits } from '../http/json-limits';
import { TiledExceptionFilter } from './tiled-exception.filter';
import { NotFoundError, UnprocessableError } from './tiled-http.error';
import { DomainError, defineErrorCodes } from './domain-error';
import { ApiKeyError, ApiKeyErrorCode } from '../../apikeys/api-key.errors';
import { AuthnError, AuthnErrorCode } from '../../authn/authn.errors';
import { ExternalLoginError, ExternalLoginErrorCode } from '../../external-login/external-login.errors';
import { nestApp } from '../../../test/helpers/nest-app';

class UndeclaredError extends DomainError {}

/**
 * The one exception filter inside a real Nest application (Fastify, in-process through `inject`): every
 * failure leaves in Tiled's `{"detail": …}` shape with exactly `application/json`, and an unexpected
 * error never shows its message or stack to the client.
 */
@Controller('api/v1/probe')
class ProbeController {
  @Get('missing')
  missing(): never {
    throw new NotFoundError('No such entry: /nope');
  }

  @Get('invalid')
  invalid(): never {
    throw new UnprocessableError([{ loc: ['query', 'page[limit]'], msg: 'Input should be less than or equal to 300', type: 'less_than_equal', input: 301 }]);
  }

  @Get('nest')
  nest(): never {
    throw new NotFoundException();
  }

  @Get('crash')
  crash(): never {
    throw new Error('secret connection string postgresql://user:hunter2@db/tiled');
  }

  @Get('limit')
  limit(): never {
    throw new ApiKeyError(ApiKeyErrorCode.limit_reached, 'This Principal already has 100 API keys');
  }

  @Get('login')
  login(): never {
    throw new AuthnError(AuthnErrorCode.incorrect_credentials, 'Incorrect username or password', { 'www-authenticate': 'Bearer' });
  }

  @Get('pending')
  pending(): never {
    throw new ExternalLoginError(ExternalLoginErrorCode.device_poll_refused, { error: 'authorization_pending' });
  }

  @Get('undeclared')
  undeclared(): never {
    throw new UndeclaredError('nobody.declared_this', 'internal wording that must not leak');
  }

  @Post('echo')
  echo(@Body() body: unknown): unknown {
    return body;
  }
}

@Module({ controllers: [ProbeController], providers: [{ provide: APP_FILTER, useClass: TiledExceptionFilter }] })
class ProbeModule {}

describe('TiledExceptionFilter in a Nest application', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await nestApp(ProbeModule, installBodyLimits);
  });
  afterAll(() => app.close());

  it('answers a domain error with its status and detail, as exactly application/json', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/probe/missing' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toEqual({ detail: 'No such entry: /nope' });
  });

  it('answers a validation problem as FastAPI’s list of problems', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/probe/invalid' });
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({
      detail: [{ loc: ['query', 'page[limit]'], msg: 'Input should be less than or equal to 300', type: 'less_than_equal', input: 301 }],
    });
  });

  describe('coded domain errors', () => {
    it('answers with the status the module declared for the code and the detail verbatim', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/probe/limit' });
      expect([response.statusCode, response.headers['content-type'], response.json()]).toEqual([
        400,
        'application/json',
        { detail: 'This Principal already has 100 API keys' },
      ]);
    });

    it('sends the headers the error carries', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/probe/login' });
      expect([response.statusCode, response.headers['www-authenticate'], response.json()]).toEqual([401, 'Bearer', { detail: 'Incorrect username or password' }]);
    });

    it('keeps an object detail as Tiled sends it (RFC 8628 polling)', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/probe/pending' });
      expect([response.statusCode, response.json()]).toEqual([400, { detail: { error: 'authorization_pending' } }]);
    });

    it('treats a code nobody declared as a bug: a bare 500 that shows nothing of it', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/probe/undeclared' });
      expect([response.statusCode, response.json()]).toEqual([500, { detail: 'Internal server error' }]);
    });

    it('refuses to declare a code twice', () => {
      expect(() => defineErrorCodes('apikeys', { limit_reached: 409 })).toThrow('Error code apikeys.limit_reached is declared twice');
    });
  });

  it('turns Nest’s own errors and unknown routes into Tiled’s wording', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/probe/nest' })).json()).toEqual({ detail: 'Not Found' });
    const unknown = await app.inject({ method: 'GET', url: '/api/v1/probe/nowhere' });
    expect([unknown.statusCode, unknown.json()]).toEqual([404, { detail: 'Not Found' }]);
  });

  it('answers an unexpected error with a bare 500 that reveals nothing of it', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/probe/crash' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ detail: 'Internal server error' });
    expect(response.body).not.toContain('hunter2');
  });

  it('refuses a body over the route’s limit with a 413 naming the limit', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/probe/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify('x'.repeat(100 * 1024)),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ detail: 'Request body is too large: this route accepts at most 65536 bytes' });
  });
});
