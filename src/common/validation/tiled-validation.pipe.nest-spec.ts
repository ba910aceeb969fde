import 'reflect-metadata';
import { Body, Controller, Get, Module, Param, Post, Query } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CreateApiKeyDto } from '../../apikeys/dto/create-api-key.dto';
import { FirstEightQueryDto, PrincipalListQueryDto, PrincipalPathDto } from '../../apikeys/dto/principal-requests.dto';
import { RefreshTokenDto } from '../../authn/dto/refresh-token.dto';
import { TiledExceptionFilter } from '../errors/tiled-exception.filter';
import { installBodyLimits } from '../http/json-limits';
import { TiledValidationPipe } from './tiled-validation.pipe';
import { nestApp } from '../../../test/helpers/nest-app';

/** Handlers that echo what the pipe handed them, so a test sees both the 422s and the parsed DTOs. */
@Controller('probe')
class ProbeController {
  @Post('apikey')
  create(@Body() body: CreateApiKeyDto): unknown {
    return { ...body };
  }

  @Get('principals')
  list(@Query() query: PrincipalListQueryDto): unknown {
    return { ...query };
  }

  @Get('principals/:uuid')
  show(@Param() path: PrincipalPathDto, @Query() query: FirstEightQueryDto): unknown {
    return { ...path, ...query };
  }

  @Post('refresh')
  refresh(@Body() body: RefreshTokenDto): unknown {
    return { ...body };
  }

  @Post('untyped')
  untyped(@Body() body: unknown): unknown {
    return { body };
  }
}

@Module({
  controllers: [ProbeController],
  providers: [
    { provide: APP_FILTER, useClass: TiledExceptionFilter },
    { provide: APP_PIPE, useClass: TiledValidationPipe },
  ],
})
class ProbeModule {}

describe('TiledValidationPipe in a Nest application', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await nestApp(ProbeModule, installBodyLimits);
  });
  afterAll(() => app.close());

  const post = (url: string, payload: unknown) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

  describe('bodies', () => {
    it('should hand the handler a parsed DTO, ignoring keys it does not know (Tiled clients send extra keys)', async () => {
      const response = await post('/probe/apikey', { expires_in: '600', scopes: ['read:metadata'], note: 'n', client_version: '0.2.16' });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toEqual({ expires_in: 600, scopes: ['read:metadata'], access_tags: null, path: null, note: 'n' });
    });

    it('should refuse with FastAPI’s 422 listing every problem, before the handler runs', async () => {
      const response = await post('/probe/apikey', { expires_in: 1.5, scopes: ['ok', 7], note: 'x'.repeat(1024) });
      expect(response.statusCode).toBe(422);
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.json()).toEqual({
        detail: [
          { type: 'int_from_float', loc: ['body', 'expires_in'], msg: 'Input should be a valid integer, got a number with a fractional part', input: 1.5 },
          { type: 'string_type', loc: ['body', 'scopes', 1], msg: 'Input should be a valid string', input: 7 },
          {
            type: 'string_too_long',
            loc: ['body', 'note'],
            msg: 'String should have at most 1023 characters',
            input: 'x'.repeat(1024),
            ctx: { max_length: 1023 },
          },
        ],
      });
    });

    it('should refuse a body that is not an object, echoing it', async () => {
      const response = await post('/probe/refresh', ['a']);
      expect([response.statusCode, response.json()]).toEqual([
        422,
        { detail: [{ type: 'model_attributes_type', loc: ['body'], msg: 'Input should be a valid dictionary or object to extract fields from', input: ['a'] }] },
      ]);
    });

    it('should name a missing field and echo the body it is missing from', async () => {
      const response = await post('/probe/refresh', { token: 'x' });
      expect(response.json()).toEqual({ detail: [{ type: 'missing', loc: ['body', 'refresh_token'], msg: 'Field required', input: { token: 'x' } }] });
    });

    it('should pass a parameter without a DTO type through unchanged', async () => {
      expect((await post('/probe/untyped', { any: ['thing'] })).json()).toEqual({ body: { any: ['thing'] } });
    });
  });

  describe('query and path', () => {
    it('should apply bounds and defaults, accepting either spelling of the page parameters', async () => {
      expect((await app.inject({ method: 'GET', url: '/probe/principals' })).json()).toEqual({ offset: 0, limit: 100 });
      expect((await app.inject({ method: 'GET', url: '/probe/principals?offset=5&page[limit]=300' })).json()).toEqual({ offset: 5, limit: 300 });
      const over = await app.inject({ method: 'GET', url: '/probe/principals?page[limit]=301&page[offset]=-1' });
      expect([over.statusCode, over.json()]).toEqual([
        422,
        {
          detail: [
            { type: 'greater_than_equal', loc: ['query', 'page[offset]'], msg: 'Input should be greater than or equal to 0', input: '-1', ctx: { ge: 0 } },
            { type: 'less_than_equal', loc: ['query', 'page[limit]'], msg: 'Input should be less than or equal to 300', input: '301', ctx: { le: 300 } },
          ],
        },
      ]);
    });

    it('should normalise a UUID path parameter and take the last of a repeated query parameter', async () => {
      const response = await app.inject({ method: 'GET', url: '/probe/principals/0F8FAD5BD9CB469FA16570867728950E?first_eight=aaaa&first_eight=bbbbbbbb' });
      expect(response.json()).toEqual({ uuid: '0f8fad5b-d9cb-469f-a165-70867728950e', firstEight: 'bbbbbbbb' });
    });

    it('should refuse a malformed UUID and a missing query parameter as FastAPI does', async () => {
      const response = await app.inject({ method: 'GET', url: '/probe/principals/not-a-uuid?first_eight=abcdefgh' });
      expect(response.json()).toEqual({
        detail: [
          {
            type: 'uuid_parsing',
            loc: ['path', 'uuid'],
            msg: 'Input should be a valid UUID, invalid character: found `n` at 0',
            input: 'not-a-uuid',
            ctx: { error: 'invalid character: found `n` at 0' },
          },
        ],
      });
      const missing = await app.inject({ method: 'GET', url: '/probe/principals/0f8fad5b-d9cb-469f-a165-70867728950e' });
      expect(missing.json()).toEqual({ detail: [{ type: 'missing', loc: ['query', 'first_eight'], msg: 'Field required', input: null }] });
    });
  });
});
