import 'reflect-metadata';
import { Controller, Get, Module, Post, Query } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { decode } from '@msgpack/msgpack';
import { gunzipSync } from 'node:zlib';
import { TiledExceptionFilter } from '../errors/tiled-exception.filter';
import { BodyResponse, RespondsWithBody, RespondsWithDocument, RespondsWithJson, encodedResponse, redirectTo } from './responds';
import { etagOf } from './wire';
import { nestApp } from '../../../test/helpers/nest-app';

const DOCUMENT = { name: 'probe', when: new Date('2026-12-03T10:00:00.123Z'), items: [1, 2, 3] };
const BIG = Buffer.from('tiled '.repeat(2000));
const ASSET = { body: BIG, type: 'text/javascript', etag: 'asset-etag' };

/** Handlers return values; `encodeResult`, bound by `@RespondsWith…()`, encodes them (in-process through `inject`). */
@Controller('probe')
class ProbeController {
  @Get('document')
  @RespondsWithDocument({ expiresInMs: 600_000 })
  document(): unknown {
    return DOCUMENT;
  }

  /** The decorator below the route's own: the route metadata must survive the handler being wrapped. */
  @RespondsWithDocument({ etag: false })
  @Get('above')
  above(@Query('name') name: string): unknown {
    return { name };
  }

  @Post('created')
  @RespondsWithDocument()
  created(): unknown {
    return { created: true };
  }

  @Get('token')
  @RespondsWithJson({ noStore: true })
  token(): unknown {
    return { access_token: 'a', when: DOCUMENT.when };
  }

  @Get('asset')
  @RespondsWithBody()
  asset(): BodyResponse {
    return encodedResponse(ASSET, { 'cache-control': 'public, max-age=3600' });
  }

  @Get('page')
  @RespondsWithBody()
  page(): BodyResponse {
    return { body: '<p>gone</p>', type: 'text/html; charset=utf-8', status: 410 };
  }

  @Get('away')
  @RespondsWithBody()
  away(): BodyResponse {
    return redirectTo('https://example.org/login?state=x', 307);
  }
}

@Module({ controllers: [ProbeController], providers: [{ provide: APP_FILTER, useClass: TiledExceptionFilter }] })
class ProbeModule {}

describe('@RespondsWith… in a Nest application', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await nestApp(ProbeModule);
  });
  afterAll(() => app.close());

  describe('documents', () => {
    it('should send JSON with exactly application/json, Tiled’s datetimes, an ETag and Expires', async () => {
      const response = await app.inject({ method: 'GET', url: '/probe/document' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.json()).toEqual({ name: 'probe', when: '2026-12-03T10:00:00+00:00', items: [1, 2, 3] });
      expect(response.headers.etag).toBe(etagOf(response.rawPayload));
      expect(Date.parse(String(response.headers.expires))).toBeGreaterThan(Date.now() + 500_000);
    });

    it('should send msgpack when Accept asks for it first, and JSON for */* first', async () => {
      const packed = await app.inject({ method: 'GET', url: '/probe/document', headers: { accept: 'application/x-msgpack, application/json' } });
      expect(packed.headers['content-type']).toBe('application/x-msgpack');
      expect(decode(packed.rawPayload)).toMatchObject({ name: 'probe', items: [1, 2, 3] });
      const json = await app.inject({ method: 'GET', url: '/probe/document', headers: { accept: '*/*, application/x-msgpack' } });
      expect(json.headers['content-type']).toBe('application/json');
    });

    it('should answer a matching If-None-Match with an empty 304 carrying the ETag', async () => {
      const first = await app.inject({ method: 'GET', url: '/probe/document' });
      const again = await app.inject({ method: 'GET', url: '/probe/document', headers: { 'if-none-match': String(first.headers.etag) } });
      expect(again.statusCode).toBe(304);
      expect(again.headers.etag).toBe(first.headers.etag);
      expect(again.rawPayload.length).toBe(0);
    });

    it('should keep the route and hand the handler its own parameters when declared above the route', async () => {
      const response = await app.inject({ method: 'GET', url: '/probe/above?name=x' });
      expect([response.statusCode, response.json(), response.headers.etag]).toEqual([200, { name: 'x' }, undefined]);
    });

    it('should answer a POST 200, as Tiled does, not Nest’s 201', async () => {
      const response = await app.inject({ method: 'POST', url: '/probe/created' });
      expect([response.statusCode, response.json()]).toEqual([200, { created: true }]);
    });
  });

  it('should send token responses as JSON whatever the Accept header, never cached', async () => {
    const response = await app.inject({ method: 'GET', url: '/probe/token', headers: { accept: 'application/x-msgpack' } });
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual({ access_token: 'a', when: '2026-12-03T10:00:00+00:00' });
  });

  describe('encoded bodies', () => {
    it('should gzip a large body for a client that accepts it, once, and say it varies', async () => {
      const response = await app.inject({ method: 'GET', url: '/probe/asset', headers: { 'accept-encoding': 'gzip' } });
      expect(response.headers['content-encoding']).toBe('gzip');
      expect(response.headers.vary).toBe('Accept-Encoding');
      expect(response.headers['cache-control']).toBe('public, max-age=3600');
      expect(gunzipSync(response.rawPayload).equals(BIG)).toBe(true);
      expect(ASSET).toHaveProperty('gzipped');
    });

    it('should send the plain body otherwise, and 304 for its ETag', async () => {
      const plain = await app.inject({ method: 'GET', url: '/probe/asset' });
      expect([plain.headers['content-encoding'], plain.headers['content-type'], plain.rawPayload.equals(BIG)]).toEqual([undefined, 'text/javascript', true]);
      const again = await app.inject({ method: 'GET', url: '/probe/asset', headers: { 'if-none-match': 'asset-etag' } });
      expect([again.statusCode, again.rawPayload.length]).toEqual([304, 0]);
    });

    it('should keep a status other than the route’s, with the body and its type', async () => {
      const response = await app.inject({ method: 'GET', url: '/probe/page' });
      expect([response.statusCode, response.headers['content-type'], response.body]).toEqual([410, 'text/html; charset=utf-8', '<p>gone</p>']);
    });

    it('should redirect without a body and without caching', async () => {
      const response = await app.inject({ method: 'GET', url: '/probe/away' });
      expect(response.statusCode).toBe(307);
      expect(response.headers.location).toBe('https://example.org/login?state=x');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.rawPayload.length).toBe(0);
    });
  });
});
