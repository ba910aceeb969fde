import 'reflect-metadata';
import { Controller, Get, Module, Query } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TiledExceptionFilter } from '../../common/errors/tiled-exception.filter';
import { TiledValidationPipe } from '../../common/validation/tiled-validation.pipe';
import { DeleteNodeQueryDto, ExplainQueryDto, RevisionsQueryDto, attachment } from './catalog-queries.dto';
import { nestApp } from '../../../test/helpers/nest-app';

/** Handlers that echo what the validation pipe handed them. */
@Controller('probe')
class ProbeController {
  @Get('revisions')
  revisions(@Query() query: RevisionsQueryDto): unknown {
    return { ...query };
  }

  @Get('delete')
  delete(@Query() query: DeleteNodeQueryDto): unknown {
    return { ...query };
  }

  @Get('explain')
  explain(@Query() query: ExplainQueryDto): unknown {
    return { ...query };
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

describe('The catalog query DTOs', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await nestApp(ProbeModule);
  });
  afterAll(() => app.close());

  const get = (url: string) => app.inject({ method: 'GET', url });

  describe('RevisionsQueryDto', () => {
    it('should page with Tiled’s defaults, and take page[cursor] as the offset, as Tiled’s pagination does', async () => {
      expect((await get('/probe/revisions')).json()).toEqual({ offset: 0, limit: 100 });
      expect((await get('/probe/revisions?page[cursor]=5&page[limit]=2')).json()).toEqual({ offset: 5, limit: 2 });
    });

    it('should refuse both page[cursor] and page[offset] with Tiled’s 400', async () => {
      const response = await get('/probe/revisions?page[cursor]=5&page[offset]=1');
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ detail: 'Cannot specify both page[cursor] and page[offset]' });
    });

    it('should refuse a limit above 300 with FastAPI’s 422 naming the parameter', async () => {
      const response = await get('/probe/revisions?page[limit]=301');
      expect(response.statusCode).toBe(422);
      expect(response.json()).toEqual({
        detail: [{ type: 'less_than_equal', loc: ['query', 'page[limit]'], msg: 'Input should be less than or equal to 300', input: '301', ctx: { le: 300 } }],
      });
    });
  });

  describe('DeleteNodeQueryDto', () => {
    it('should default external_only to true and refuse a value that is not a boolean', async () => {
      expect((await get('/probe/delete?recursive=yes')).json()).toEqual({ recursive: true, externalOnly: true });
      const response = await get('/probe/delete?recursive=maybe');
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ type: 'bool_parsing', loc: ['query', 'recursive'], input: 'maybe' });
    });
  });

  describe('ExplainQueryDto', () => {
    it('should default the scope to read:metadata and refuse a scope that does not exist', async () => {
      expect((await get('/probe/explain?path=/a/b')).json()).toEqual({ path: '/a/b', scope: 'read:metadata' });
      const response = await get('/probe/explain?path=/a&scope=read:everything');
      expect(response.statusCode).toBe(422);
      expect(response.json().detail[0]).toMatchObject({ type: 'enum', loc: ['query', 'scope'], input: 'read:everything' });
    });
  });

  describe('attachment', () => {
    it('should name the attachment without the characters that would end or split the header', () => {
      expect(attachment({ filename: 'a"b\r\nc.csv' })).toEqual({ 'content-disposition': 'attachment; filename="a_b__c.csv"' });
      expect(attachment({ filename: ['a.csv', 'b.csv'] })).toBeUndefined();
    });
  });
});
