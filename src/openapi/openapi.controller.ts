import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { JSON_TYPE } from '../common/http/wire';
import { OpenApiService } from './openapi.service';
import { SWAGGER_UI_HTML, swaggerUiAsset } from './swagger-ui';

const HTML = Buffer.from(SWAGGER_UI_HTML);

/**
 * The OpenAPI document at /openapi.json and an interactive reference (Swagger UI) at /docs, where Tiled
 * 0.2.16 serves them; also at /api/v1/docs, the about document's `links.documentation` (a 404 in Tiled).
 */
@Controller()
export class OpenApiController {
  constructor(private readonly openApi: OpenApiService) {}

  @Public()
  @Get('openapi.json')
  async document(@Res() reply: FastifyReply): Promise<FastifyReply> {
    // A Buffer keeps the content type exactly application/json, as Tiled sends it (and, like Tiled, no ETag).
    return reply.header('content-type', JSON_TYPE).send(await this.openApi.json());
  }

  @Public()
  @Get(['docs', 'api/v1/docs'])
  page(@Res() reply: FastifyReply): FastifyReply {
    return reply.header('content-type', 'text/html; charset=utf-8').send(HTML);
  }

  @Public()
  @Get('docs/:asset')
  async asset(@Param('asset') name: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const loading = swaggerUiAsset(name);
    if (!loading) throw new TiledHttpError(404, 'Not Found');
    const { body, type, etag } = await loading;
    reply.header('etag', etag).header('cache-control', 'public, max-age=3600');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    return reply.header('content-type', type).send(body);
  }
}
