import { Body, Controller, Get, HttpCode, Post, Put, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scopes } from '../../auth/auth.decorators';
import { TiledHttpError } from '../../common/errors/tiled-http.error';
import { apiBase, sendDocument } from '../../common/http/wire';
import { AUTH_CONTEXT, type AuthContext } from '../../auth/auth-context';
import { CatalogService, type Located } from '../catalog.service';
import { intParam, missing, queryOf } from '../http/query-params';
import { AssetsService } from './assets.service';
import { RegisterService } from './register.service';

/** Tiled 0.2.16's registration of external files (docs/files.md, "Registering files"). */
@Controller('api/v1')
export class RegisterController {
  constructor(
    private readonly registrations: RegisterService,
    private readonly assets: AssetsService,
    private readonly catalog: CatalogService,
  ) {}

  private locate(request: FastifyRequest): Promise<Located> {
    const auth = (request as unknown as Record<symbol, AuthContext | undefined>)[AUTH_CONTEXT];
    return this.catalog.locate((request.params as { '*'?: string })['*'], this.catalog.access.forRequest(auth), ['read:data']);
  }

  private static assetId(request: FastifyRequest): number {
    const id = intParam(queryOf(request), 'id');
    if (id === undefined) throw missing('id');
    return id;
  }

  @Scopes(['write:metadata', 'create:node', 'register'])
  @Post(['register', 'register/*'])
  @HttpCode(200)
  async register(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    const path = (request.params as { '*'?: string })['*'];
    return sendDocument(request, reply, await this.registrations.register(path, body, apiBase(request), this.catalog.accessOf(request)), { etag: true });
  }

  @Scopes(['write:metadata', 'register'])
  @Put(['data_source', 'data_source/*'])
  async putDataSource(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    const query = queryOf(request);
    if (query.patch_shape !== undefined || query.patch_offset !== undefined) {
      throw new TiledHttpError(400, 'patch_shape and patch_offset are not supported by tiled-ts: PUT /data_source replaces a registered data source and adds assets');
    }
    await this.registrations.putDataSource((request.params as { '*'?: string })['*'], body, this.catalog.accessOf(request));
    return sendDocument(request, reply, null);
  }

  @Scopes(['read:data'])
  @Get(['asset/bytes', 'asset/bytes/*'])
  async assetBytes(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const id = RegisterController.assetId(request);
    const relative = queryOf(request).relative_path;
    const file = await this.assets.bytes(await this.locate(request), id, typeof relative === 'string' ? relative : undefined);
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(file.size))
      .header('content-disposition', `attachment; filename="${file.filename.replace(/["\\\r\n]/g, '_')}"`)
      .send(file.stream);
  }

  @Scopes(['read:data'])
  @Get(['asset/manifest', 'asset/manifest/*'])
  async assetManifest(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const id = RegisterController.assetId(request);
    return sendDocument(request, reply, await this.assets.manifest(await this.locate(request), id));
  }
}
