import { Body, Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scopes } from '../auth/auth.decorators';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { apiBase, etagOf, toJson, wantsMsgpack } from '../common/http/wire';
import { CatalogDataService, TABLE_DEFAULT, TABLE_TYPES, checkListLength } from './catalog-data.service';
import { CONTAINER_DEFAULT, CONTAINER_TYPES, HDF5 } from './encoders/registry';
import { CatalogService, Located } from './catalog.service';
import { negotiate } from './http/negotiate';
import { queryOf } from './http/query-params';
import { sendEncoded } from './http/send';
import type { ArrayNode, SparseNode, TableNode } from './tree/tree.types';

type Params = { '*'?: string };
type RouteScope = 'read:metadata' | 'read:data';

function wildcard(request: FastifyRequest): string | undefined {
  return (request.params as Params)['*'];
}

/** The raw query string: the cache key of documents built from it. */
function rawQuery(request: FastifyRequest): string {
  const at = request.url.indexOf('?');
  return at < 0 ? '' : request.url.slice(at + 1);
}

/** Every catalog read route of Tiled 0.2.16 (docs/catalog.md); scopes as in its route table. */
@Controller('api/v1')
export class CatalogController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly data: CatalogDataService,
  ) {}

  @Scopes(['read:metadata'])
  @Get(['metadata', 'metadata/*'])
  async metadata(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const located = await this.locate(request, 'read:metadata');
    const encoded = await this.catalog.metadata(located, queryOf(request), apiBase(request), wantsMsgpack(request.headers.accept), rawQuery(request));
    return sendEncoded(request, reply, encoded);
  }

  @Scopes(['read:metadata'])
  @Get(['search', 'search/*'])
  async search(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const located = await this.locate(request, 'read:metadata');
    const encoded = await this.catalog.search(located, queryOf(request), apiBase(request), wantsMsgpack(request.headers.accept), rawQuery(request));
    return sendEncoded(request, reply, encoded, { 'cache-control': 'must-revalidate' });
  }

  @Scopes(['read:metadata'])
  @Get(['distinct', 'distinct/*'])
  async distinct(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const located = await this.locate(request, 'read:metadata');
    const encoded = await this.catalog.distinct(located, queryOf(request), wantsMsgpack(request.headers.accept), rawQuery(request));
    return sendEncoded(request, reply, encoded);
  }

  @Scopes(['read:data'])
  @Get(['array/block', 'array/block/*'])
  async arrayBlock(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const located = await this.locateFamily(request, ['array', 'sparse']);
    const query = queryOf(request);
    const { type } = negotiate(request, query, ...this.data.arrayFormats(located.node));
    const encoded = await this.data.arrayBlock(located.node as ArrayNode | SparseNode, query, type);
    return sendEncoded(request, reply, encoded, this.disposition(request));
  }

  @Scopes(['read:data'])
  @Get(['array/full', 'array/full/*'])
  async arrayFull(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const located = await this.locateFamily(request, ['array', 'sparse']);
    const query = queryOf(request);
    const { type } = negotiate(request, query, ...this.data.arrayFormats(located.node));
    const encoded = await this.data.arrayFull(located.node as ArrayNode | SparseNode, query, type);
    return sendEncoded(request, reply, encoded, this.disposition(request));
  }

  @Scopes(['read:data'])
  @Get(['table/partition', 'table/partition/*'])
  async tablePartition(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    return this.sendTable(request, reply, undefined, 'partition');
  }

  @Scopes(['read:data'])
  @Post(['table/partition', 'table/partition/*'])
  @HttpCode(200)
  async tablePartitionPost(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    return this.sendTable(request, reply, body ?? [], 'partition');
  }

  @Scopes(['read:data'])
  @Get(['table/full', 'table/full/*'])
  async tableFull(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    return this.sendTable(request, reply, undefined, 'full');
  }

  @Scopes(['read:data'])
  @Post(['table/full', 'table/full/*'])
  @HttpCode(200)
  async tableFullPost(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    return this.sendTable(request, reply, body ?? [], 'full');
  }

  @Scopes(['read:data'])
  @Get(['container/full', 'container/full/*'])
  async containerFull(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    return this.sendContainer(request, reply, undefined);
  }

  @Scopes(['read:data'])
  @Post(['container/full', 'container/full/*'])
  @HttpCode(200)
  async containerFullPost(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    return this.sendContainer(request, reply, body ?? []);
  }

  /** Deprecated union of /container/full and /table/full that old clients still call. */
  @Scopes(['read:data'])
  @Get(['node/full', 'node/full/*'])
  async nodeFull(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const located = await this.locate(request, 'read:data');
    this.catalog.requireFamily(located, ['container', 'table']);
    if (located.node.family === 'table') return this.sendTable(request, reply, undefined, 'full');
    return this.sendContainer(request, reply, undefined);
  }

  /** Every route looks its node up here, with the route's scope checked on the node under the access policy. */
  private locate(request: FastifyRequest, scope: RouteScope): Promise<Located> {
    return this.catalog.locateFor(request, [scope], wildcard(request));
  }

  private async locateFamily(request: FastifyRequest, families: string[]): Promise<Located> {
    const located = await this.locate(request, 'read:data');
    this.catalog.requireFamily(located, families);
    return located;
  }

  private disposition(request: FastifyRequest): Record<string, string> {
    const filename = queryOf(request).filename;
    if (typeof filename !== 'string' || filename === '') return {};
    return { 'content-disposition': `attachment; filename="${filename.replace(/["\\\r\n]/g, '_')}"` };
  }

  private async sendTable(request: FastifyRequest, reply: FastifyReply, body: unknown, route: 'partition' | 'full'): Promise<FastifyReply> {
    const located = await this.locateFamily(request, ['table']);
    const node = located.node as TableNode;
    const query = queryOf(request);
    const partition = route === 'partition' ? this.data.partitionParam(node, query) : 'all';
    const columns = this.data.columnsRequested(query, body, `/table/${route}`);
    const { type } = negotiate(request, query, TABLE_TYPES, TABLE_DEFAULT);
    const encoded = await this.data.table(node, partition, columns, type);
    return sendEncoded(request, reply, encoded, this.disposition(request));
  }

  private async sendContainer(request: FastifyRequest, reply: FastifyReply, body: unknown): Promise<FastifyReply> {
    const located = await this.locateFamily(request, ['container']);
    const query = queryOf(request);
    const { type } = negotiate(request, query, CONTAINER_TYPES, CONTAINER_DEFAULT);
    if (body !== undefined && !Array.isArray(body)) {
      throw new TiledHttpError(422, [{ type: 'list_type', loc: ['body'], msg: 'Input should be a valid list', input: body }]);
    }
    const fields = Array.isArray(body) ? body : [query.field ?? []].flat();
    checkListLength(fields.length, Array.isArray(body) ? ['body'] : ['query', 'field']);
    if (type === HDF5) {
      const encoded = await this.data.containerHdf5(located.node, fields.map(String), this.catalog.exportLister(located));
      return sendEncoded(request, reply, encoded, this.disposition(request));
    }
    const payload = await this.catalog.containerExport(located, fields.map(String));
    const bytes = Buffer.from(toJson(payload));
    return sendEncoded(request, reply, { body: bytes, type: 'application/json', etag: etagOf(bytes) }, this.disposition(request));
  }
}
