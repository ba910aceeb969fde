import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Put, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scopes } from '../../auth/auth.decorators';
import { apiBase, sendDocument } from '../../common/http/wire';
import { boolParam, intParam, missing, queryOf } from '../http/query-params';
import { CatalogDataWriteService } from './catalog-data-write.service';
import { CatalogWriteService } from './catalog-write.service';

function wildcard(request: FastifyRequest): string | undefined {
  return (request.params as { '*'?: string })['*'];
}

/** Tiled 0.2.16's write routes (docs/catalog.md, "Writing"); scopes as in its route table. */
@Controller('api/v1')
export class CatalogWriteController {
  constructor(
    private readonly writes: CatalogWriteService,
    private readonly data: CatalogDataWriteService,
  ) {}

  /** Tiled's json_or_msgpack: JSON or msgpack by Accept, with an ETag, for every answer here. */
  private answer(request: FastifyRequest, reply: FastifyReply, payload: unknown): FastifyReply {
    return sendDocument(request, reply, payload, { etag: true });
  }

  @Scopes(['write:metadata', 'create:node'])
  @Post(['metadata', 'metadata/*'])
  @HttpCode(200)
  async create(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    return this.answer(request, reply, await this.writes.create(wildcard(request), body, apiBase(request), this.writes.accessOf(request)));
  }

  @Scopes(['write:metadata'])
  @Put(['metadata', 'metadata/*'])
  async replaceMetadata(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    const dropRevision = boolParam(queryOf(request), 'drop_revision');
    return this.answer(request, reply, await this.writes.replace(wildcard(request), body, dropRevision, this.writes.accessOf(request)));
  }

  @Scopes(['write:metadata'])
  @Patch(['metadata', 'metadata/*'])
  async patchMetadata(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    const dropRevision = boolParam(queryOf(request), 'drop_revision');
    return this.answer(request, reply, await this.writes.patch(wildcard(request), body, dropRevision, this.writes.accessOf(request)));
  }

  @Scopes(['delete:node', 'delete:revision'])
  @Delete(['metadata', 'metadata/*'])
  async delete(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const query = queryOf(request);
    await this.writes.delete(wildcard(request), boolParam(query, 'recursive'), boolParam(query, 'external_only', true), this.writes.accessOf(request));
    return this.answer(request, reply, null);
  }

  @Scopes(['read:metadata'])
  @Get(['revisions', 'revisions/*'])
  async revisions(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const query = queryOf(request);
    const offset = intParam(query, 'page[offset]', { ge: 0 }) ?? 0;
    const limit = intParam(query, 'page[limit]', { ge: 0, le: 300 }) ?? 100;
    return this.answer(request, reply, await this.writes.revisions(wildcard(request), offset, limit, apiBase(request), this.writes.accessOf(request)));
  }

  @Scopes(['delete:revision'])
  @Delete(['revisions', 'revisions/*'])
  async deleteRevision(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const number = intParam(queryOf(request), 'number');
    if (number === undefined) throw missing('number');
    await this.writes.deleteRevision(wildcard(request), number, this.writes.accessOf(request));
    return this.answer(request, reply, null);
  }

  @Scopes(['write:data'])
  @Put(['array/full', 'array/full/*'])
  async putArrayFull(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    await this.data.putArrayFull(wildcard(request), request.headers['content-type'], body, queryOf(request), this.writes.accessOf(request));
    return this.answer(request, reply, null);
  }

  @Scopes(['write:data'])
  @Put(['array/block', 'array/block/*'])
  async putArrayBlock(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    await this.data.putArrayBlock(wildcard(request), request.headers['content-type'], body, queryOf(request), this.writes.accessOf(request));
    return this.answer(request, reply, null);
  }

  @Scopes(['write:data'])
  @Patch(['array/full', 'array/full/*'])
  async patchArrayFull(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    return this.answer(request, reply, await this.data.patchArray(wildcard(request), request.headers['content-type'], body, queryOf(request), this.writes.accessOf(request)));
  }

  @Scopes(['write:data'])
  @Put(['table/full', 'table/full/*', 'node/full', 'node/full/*'])
  async putTableFull(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    await this.data.putTable(wildcard(request), request.headers['content-type'], body, undefined, 'put', this.writes.accessOf(request));
    return this.answer(request, reply, null);
  }

  @Scopes(['write:data'])
  @Put(['table/partition', 'table/partition/*'])
  async putTablePartition(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    await this.data.putTable(wildcard(request), request.headers['content-type'], body, queryOf(request), 'put', this.writes.accessOf(request));
    return this.answer(request, reply, null);
  }

  @Scopes(['write:data'])
  @Patch(['table/partition', 'table/partition/*'])
  async appendTablePartition(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    await this.data.putTable(wildcard(request), request.headers['content-type'], body, queryOf(request), 'append', this.writes.accessOf(request));
    return this.answer(request, reply, null);
  }
}
