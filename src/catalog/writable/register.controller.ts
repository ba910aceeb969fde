import { Body, Controller, Get, Post, Put, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scopes } from '../../auth/auth.decorators';
import { TiledHttpError } from '../../common/errors/tiled-http.error';
import { RespondsWithDocument } from '../../common/http/responds';
import { apiBase } from '../../common/http/wire';
import { DeclaresQuery } from '../../common/validation/openapi-schema';
import { CatalogService, type Located } from '../catalog.service';
import { AssetQueryDto, DATA_SOURCE_QUERY } from '../dto/catalog-queries.dto';
import { queryOf } from '../http/query-params';
import { ASSET_MANIFEST_RESPONSE, POST_METADATA_RESPONSE } from '../dto/catalog-schemas';
import { PutDataSourceDto, RegisterNodeDto } from '../dto/catalog-write-bodies.dto';
import { AssetsService } from './assets.service';
import { RegisterService } from './register.service';

function wildcard(request: FastifyRequest): string | undefined {
  return (request.params as { '*'?: string })['*'];
}

/**
 * Tiled 0.2.16's registration of external files (docs/files.md, "Registering files"). The bodies are
 * parsed before the handler (src/catalog/dto/catalog-write-bodies.dto.ts); whether the files open is
 * checked by `RegisterService`, against the node they register under.
 */
@Controller('api/v1')
export class RegisterController {
  constructor(
    private readonly registrations: RegisterService,
    private readonly assets: AssetsService,
    private readonly catalog: CatalogService,
  ) {}

  private locate(request: FastifyRequest): Promise<Located> {
    return this.catalog.locateFor(request, ['read:data']);
  }

  @Scopes(['write:metadata', 'create:node', 'register'])
  @Post(['register', 'register/*'])
  @RespondsWithDocument({ schema: POST_METADATA_RESPONSE })
  register(@Req() request: FastifyRequest, @Body() body: RegisterNodeDto): Promise<Record<string, unknown>> {
    return this.registrations.register(wildcard(request), body, apiBase(request), this.catalog.accessOf(request));
  }

  @Scopes(['write:metadata', 'register'])
  @Put(['data_source', 'data_source/*'])
  @RespondsWithDocument({ etag: false, schema: { type: 'null' } })
  @DeclaresQuery(DATA_SOURCE_QUERY)
  async putDataSource(@Req() request: FastifyRequest, @Body() body: PutDataSourceDto): Promise<null> {
    const query = queryOf(request);
    if (query.patch_shape !== undefined || query.patch_offset !== undefined) {
      throw new TiledHttpError(400, 'patch_shape and patch_offset are not supported by tiled-ts: PUT /data_source replaces a registered data source and adds assets');
    }
    await this.registrations.putDataSource(wildcard(request), body, this.catalog.accessOf(request));
    return null;
  }

  /** A file of any size, streamed from disk: the one handler here that still sends through the reply. */
  @Scopes(['read:data'])
  @Get(['asset/bytes', 'asset/bytes/*'])
  async assetBytes(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query() query: AssetQueryDto): Promise<FastifyReply> {
    const file = await this.assets.bytes(await this.locate(request), query.id, query.relativePath);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(file.size))
      .header('content-disposition', `attachment; filename="${file.filename.replace(/["\\\r\n]/g, '_')}"`)
      .send(file.stream);
  }

  @Scopes(['read:data'])
  @Get(['asset/manifest', 'asset/manifest/*'])
  @RespondsWithDocument({ etag: false, schema: ASSET_MANIFEST_RESPONSE })
  async assetManifest(@Req() request: FastifyRequest, @Query() query: AssetQueryDto): Promise<{ manifest: string[] }> {
    return this.assets.manifest(await this.locate(request), query.id);
  }
}
