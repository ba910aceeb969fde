import { Body, Controller, Delete, Get, Patch, Post, Put, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Scopes } from '../../auth/auth.decorators';
import { RespondsWithDocument } from '../../common/http/responds';
import { apiBase } from '../../common/http/wire';
import { DeclaresBody, DeclaresQuery, type JsonSchema } from '../../common/validation/openapi-schema';
import {
  ARRAY_BLOCK_WRITE_QUERY,
  ARRAY_PATCH_QUERY,
  ARRAY_WRITE_QUERY,
  DeleteNodeQueryDto,
  DropRevisionQueryDto,
  RevisionNumberQueryDto,
  RevisionsQueryDto,
  TABLE_PARTITION_WRITE_QUERY,
} from '../dto/catalog-queries.dto';
import { queryOf } from '../http/query-params';
import { BINARY, PATCH_METADATA_RESPONSE, POST_METADATA_RESPONSE, PUT_METADATA_RESPONSE, REVISIONS_RESPONSE } from '../dto/catalog-schemas';
import { CreateNodeDto, PatchMetadataDto, ReplaceMetadataDto } from '../dto/catalog-write-bodies.dto';
import { ARROW_FILE, CatalogDataWriteService, OCTET_STREAM } from './catalog-data-write.service';
import { CatalogWriteService } from './catalog-write.service';

type Json = Record<string, unknown>;

function wildcard(request: FastifyRequest): string | undefined {
  return (request.params as { '*'?: string })['*'];
}

/**
 * The JSON bodies are parsed before the handler (src/catalog/dto/catalog-write-bodies.dto.ts). Data bodies
 * are bytes, checked by the services against the node they write (its structure, dtype and shape).
 */
const body = (openApi: JsonSchema): { openApi: JsonSchema } => ({ openApi });
const ARRAY_BYTES = body({ ...BINARY, description: 'The raw bytes of the array (or block), C order, in the data source dtype' });
const TABLE_BYTES = body({ ...BINARY, description: 'An Arrow IPC file' });
/** The structure of the array after the patch. */
const ARRAY_STRUCTURE: JsonSchema = { type: 'object', additionalProperties: true, description: "The array's structure after the patch (ArrayStructure)" };

/**
 * Tiled 0.2.16's write routes (docs/catalog.md, "Writing"); scopes as in its route table. Every answer is
 * Tiled's json_or_msgpack: JSON or msgpack by Accept, with an ETag.
 */
@Controller('api/v1')
export class CatalogWriteController {
  constructor(
    private readonly writes: CatalogWriteService,
    private readonly data: CatalogDataWriteService,
  ) {}

  @Scopes(['write:metadata', 'create:node'])
  @Post(['metadata', 'metadata/*'])
  @RespondsWithDocument({ schema: POST_METADATA_RESPONSE })
  create(@Req() request: FastifyRequest, @Body() payload: CreateNodeDto): Promise<Json> {
    return this.writes.create(wildcard(request), payload, apiBase(request), this.writes.accessOf(request));
  }

  @Scopes(['write:metadata'])
  @Put(['metadata', 'metadata/*'])
  @RespondsWithDocument({ schema: PUT_METADATA_RESPONSE })
  replaceMetadata(@Req() request: FastifyRequest, @Query() query: DropRevisionQueryDto, @Body() payload: ReplaceMetadataDto): Promise<Json> {
    return this.writes.replace(wildcard(request), payload, query.dropRevision, this.writes.accessOf(request));
  }

  @Scopes(['write:metadata'])
  @Patch(['metadata', 'metadata/*'])
  @RespondsWithDocument({ schema: PATCH_METADATA_RESPONSE })
  patchMetadata(@Req() request: FastifyRequest, @Query() query: DropRevisionQueryDto, @Body() payload: PatchMetadataDto): Promise<Json> {
    return this.writes.patch(wildcard(request), payload, query.dropRevision, this.writes.accessOf(request));
  }

  @Scopes(['delete:node', 'delete:revision'])
  @Delete(['metadata', 'metadata/*'])
  @RespondsWithDocument({ schema: { type: 'null' } })
  async delete(@Req() request: FastifyRequest, @Query() query: DeleteNodeQueryDto): Promise<null> {
    await this.writes.delete(wildcard(request), query.recursive, query.externalOnly, this.writes.accessOf(request));
    return null;
  }

  @Scopes(['read:metadata'])
  @Get(['revisions', 'revisions/*'])
  @RespondsWithDocument({ schema: REVISIONS_RESPONSE })
  revisions(@Req() request: FastifyRequest, @Query() query: RevisionsQueryDto): Promise<Json> {
    return this.writes.revisions(wildcard(request), query.offset, query.limit, apiBase(request), this.writes.accessOf(request));
  }

  @Scopes(['delete:revision'])
  @Delete(['revisions', 'revisions/*'])
  @RespondsWithDocument({ schema: { type: 'null' } })
  async deleteRevision(@Req() request: FastifyRequest, @Query() query: RevisionNumberQueryDto): Promise<null> {
    await this.writes.deleteRevision(wildcard(request), query.number, this.writes.accessOf(request));
    return null;
  }

  @Scopes(['write:data'])
  @Put(['array/full', 'array/full/*'])
  @RespondsWithDocument({ schema: { type: 'null' } })
  @DeclaresBody(ARRAY_BYTES, OCTET_STREAM)
  @DeclaresQuery(ARRAY_WRITE_QUERY)
  async putArrayFull(@Req() request: FastifyRequest, @Body() payload: unknown): Promise<null> {
    await this.data.putArrayFull(wildcard(request), request.headers['content-type'], payload, queryOf(request), this.writes.accessOf(request));
    return null;
  }

  @Scopes(['write:data'])
  @Put(['array/block', 'array/block/*'])
  @RespondsWithDocument({ schema: { type: 'null' } })
  @DeclaresBody(ARRAY_BYTES, OCTET_STREAM)
  @DeclaresQuery(ARRAY_BLOCK_WRITE_QUERY)
  async putArrayBlock(@Req() request: FastifyRequest, @Body() payload: unknown): Promise<null> {
    await this.data.putArrayBlock(wildcard(request), request.headers['content-type'], payload, queryOf(request), this.writes.accessOf(request));
    return null;
  }

  @Scopes(['write:data'])
  @Patch(['array/full', 'array/full/*'])
  @RespondsWithDocument({ schema: ARRAY_STRUCTURE })
  @DeclaresBody(ARRAY_BYTES, OCTET_STREAM)
  @DeclaresQuery(ARRAY_PATCH_QUERY)
  patchArrayFull(@Req() request: FastifyRequest, @Body() payload: unknown): Promise<Json> {
    return this.data.patchArray(wildcard(request), request.headers['content-type'], payload, queryOf(request), this.writes.accessOf(request));
  }

  @Scopes(['write:data'])
  @Put(['table/full', 'table/full/*', 'node/full', 'node/full/*'])
  @RespondsWithDocument({ schema: { type: 'null' } })
  @DeclaresBody(TABLE_BYTES, ARROW_FILE)
  async putTableFull(@Req() request: FastifyRequest, @Body() payload: unknown): Promise<null> {
    await this.data.putTable(wildcard(request), request.headers['content-type'], payload, undefined, 'put', this.writes.accessOf(request));
    return null;
  }

  @Scopes(['write:data'])
  @Put(['table/partition', 'table/partition/*'])
  @RespondsWithDocument({ schema: { type: 'null' } })
  @DeclaresBody(TABLE_BYTES, ARROW_FILE)
  @DeclaresQuery(TABLE_PARTITION_WRITE_QUERY)
  async putTablePartition(@Req() request: FastifyRequest, @Body() payload: unknown): Promise<null> {
    await this.data.putTable(wildcard(request), request.headers['content-type'], payload, queryOf(request), 'put', this.writes.accessOf(request));
    return null;
  }

  @Scopes(['write:data'])
  @Patch(['table/partition', 'table/partition/*'])
  @RespondsWithDocument({ schema: { type: 'null' } })
  @DeclaresBody(TABLE_BYTES, ARROW_FILE)
  @DeclaresQuery(TABLE_PARTITION_WRITE_QUERY)
  async appendTablePartition(@Req() request: FastifyRequest, @Body() payload: unknown): Promise<null> {
    await this.data.putTable(wildcard(request), request.headers['content-type'], payload, queryOf(request), 'append', this.writes.accessOf(request));
    return null;
  }
}
