import 'reflect-metadata';
import { Body, Controller, Get, Module, Param, Post, Query, Req } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AboutProvidersSource } from '../about/about.providers';
import { RespondsWithDocument } from '../common/http/responds';
import { DeclaresBody, JsonSchema, nullable } from '../common/validation/openapi-schema';
import { applyRouteContracts, buildOpenApiDocument, OpenApiDocument } from './openapi-document';

class ThingBodyDto {
  static readonly openApi: JsonSchema = { title: 'ThingRequest', type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
  static parse(): ThingBodyDto {
    return new ThingBodyDto();
  }
}

class OptionalBodyDto {
  static readonly openApi: JsonSchema = { title: 'Optional', type: 'object', properties: { reason: { type: 'string' } } };
  static readonly bodyOptional = true;
  static parse(): OptionalBodyDto {
    return new OptionalBodyDto();
  }
}

class PageQueryDto {
  static readonly openApi: JsonSchema = {
    type: 'object',
    properties: { 'page[limit]': { type: 'integer', maximum: 300, description: 'Also `limit`' }, role: { type: 'string' } },
    required: ['role'],
  };
  static parse(): PageQueryDto {
    return new PageQueryDto();
  }
}

class IdPathDto {
  static readonly openApi: JsonSchema = { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] };
  static parse(): IdPathDto {
    return new IdPathDto();
  }
}

const OWNER: JsonSchema = { title: 'Owner', type: 'object', properties: { uuid: { type: 'string' } } };
const THING: JsonSchema = { title: 'Thing', type: 'object', properties: { name: { type: 'string' }, owner: nullable(OWNER) } };

@Controller('things')
class ThingsController {
  @Post(':id')
  @RespondsWithDocument({ schema: THING })
  create(@Param() _path: IdPathDto, @Query() _query: PageQueryDto, @Body() _body: ThingBodyDto): unknown {
    return {};
  }

  @Get()
  @RespondsWithDocument({ schema: { type: 'array', items: THING } })
  list(): unknown {
    return [];
  }

  @Post('form')
  @DeclaresBody(ThingBodyDto, 'application/x-www-form-urlencoded')
  form(@Req() _request: unknown): void {}

  @Post('optional')
  optional(@Body() _body: OptionalBodyDto): void {}
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

const NO_PROVIDERS: AboutProvidersSource = { describe: () => [] } as unknown as AboutProvidersSource;

describe('the OpenAPI document of a Nest application', () => {
  let app: NestFastifyApplication;
  let document: OpenApiDocument;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ThingsModule] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    document = await buildOpenApiDocument(app, NO_PROVIDERS);
  });
  afterAll(() => app.close());

  const schemas = (): Record<string, unknown> => (document.components?.schemas ?? {}) as Record<string, unknown>;

  it('should show a @Body() DTO as its schema, named by its title, in place of @nestjs/swagger\'s empty stand-in', () => {
    expect(document.paths['/things/{id}'].post.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ThingRequest' } } },
    });
    expect(schemas().ThingRequest).toEqual(ThingBodyDto.openApi);
    expect(schemas().ThingBodyDto).toBeUndefined();
  });

  it('should list a @Query() or @Param() DTO\'s properties as parameters, spelled as on the wire', () => {
    const parameters = document.paths['/things/{id}'].post.parameters ?? [];
    expect(parameters).toEqual(
      expect.arrayContaining([
        { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
        { name: 'page[limit]', in: 'query', required: false, schema: { type: 'integer', maximum: 300 }, description: 'Also `limit`' },
        { name: 'role', in: 'query', required: true, schema: { type: 'string' } },
      ]),
    );
    expect(parameters.filter((p) => p.name === 'id')).toHaveLength(1);
  });

  it('should give an answer its declared schema, with titled parts as shared components', () => {
    const created = document.paths['/things/{id}'].post.responses as Record<string, { content: unknown }>;
    expect(created['200'].content).toEqual({ 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } });
    const listed = document.paths['/things'].get.responses as Record<string, { content: unknown }>;
    expect(listed['200'].content).toEqual({ 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Thing' } } } });
    expect(schemas().Thing).toEqual({ ...THING, properties: { name: { type: 'string' }, owner: { anyOf: [{ $ref: '#/components/schemas/Owner' }, { type: 'null' }] } } });
    expect(schemas().Owner).toEqual(OWNER);
  });

  it('should show a body the handler parses itself with the content type @DeclaresBody names, and an optional body as not required', () => {
    expect(document.paths['/things/form'].post.requestBody).toEqual({
      required: true,
      content: { 'application/x-www-form-urlencoded': { schema: { $ref: '#/components/schemas/ThingRequest' } } },
    });
    expect((document.paths['/things/optional'].post.requestBody as { required: boolean }).required).toBe(false);
  });

  it('should refuse two different schemas under one title (a client would get one type for both)', () => {
    class Clash {
      @RespondsWithDocument({ schema: { title: 'Same', type: 'object' } })
      a(): unknown {
        return {};
      }

      @RespondsWithDocument({ schema: { title: 'Same', type: 'string' } })
      b(): unknown {
        return '';
      }
    }
    const route = (methodName: string): Parameters<typeof applyRouteContracts>[1][number] => ({
      entry: { method: 'GET', path: `/${methodName}`, access: 'public', scopes: [], source: `Clash.${methodName}` },
      controller: Clash as never,
      methodName,
    });
    const clash: OpenApiDocument = { openapi: '3.1.0', info: {}, paths: { '/a': { get: {} }, '/b': { get: {} } } };
    expect(() => applyRouteContracts(clash, [route('a'), route('b')])).toThrow('Two different OpenAPI schemas are titled Same');
  });
});
