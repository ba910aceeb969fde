import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scopes } from '../auth/auth.decorators';
import { apiBase, sendDocument } from '../common/http/wire';

@Controller('api/v1')
export class CatalogController {
  @Scopes(['read:metadata'])
  @Get(['metadata', 'metadata/*'])
  metadata(@Req() request: FastifyRequest, @Res() reply: FastifyReply): FastifyReply {
    const base = apiBase(request);
    return sendDocument(request, reply, {
      data: {
        id: '',
        attributes: { ancestors: [], structure_family: 'container', specs: [], metadata: {}, structure: { contents: null, count: 0 }, sorting: null, data_sources: null, access_blob: null },
        links: { self: `${base}/metadata/`, search: `${base}/search/` },
        meta: null,
      },
      error: null,
      links: null,
      meta: {},
    }, { etag: true });
  }
}
