import { Controller, Get, Param } from '@nestjs/common';
import { Public } from '../auth/auth.decorators';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { BodyResponse, RespondsWithBody, encodedResponse } from '../common/http/responds';
import { JSON_TYPE } from '../common/http/wire';
import { OpenApiService } from './openapi.service';
import { SWAGGER_UI_HTML, swaggerUiAsset } from './swagger-ui';

const PAGE: BodyResponse = { body: Buffer.from(SWAGGER_UI_HTML), type: 'text/html; charset=utf-8' };

/**
 * The OpenAPI document at /openapi.json and an interactive reference (Swagger UI) at /docs, where Tiled
 * 0.2.16 serves them; also at /api/v1/docs, the about document's `links.documentation` (a 404 in Tiled).
 */
@Controller()
export class OpenApiController {
  constructor(private readonly openApi: OpenApiService) {}

  /** Exactly application/json, as Tiled sends it (and, like Tiled, no ETag). */
  @Public()
  @Get('openapi.json')
  @RespondsWithBody()
  async document(): Promise<BodyResponse> {
    return { body: await this.openApi.json(), type: JSON_TYPE };
  }

  @Public()
  @Get(['docs', 'api/v1/docs'])
  @RespondsWithBody()
  page(): BodyResponse {
    return PAGE;
  }

  @Public()
  @Get('docs/:asset')
  @RespondsWithBody()
  async asset(@Param('asset') name: string): Promise<BodyResponse> {
    const loading = swaggerUiAsset(name);
    if (!loading) throw new TiledHttpError(404, 'Not Found');
    return encodedResponse(await loading, { 'cache-control': 'public, max-age=3600' });
  }
}
