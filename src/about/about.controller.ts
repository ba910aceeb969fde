import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { ABOUT_PROVIDERS, AboutProvidersSource } from './about.providers';
import { apiBase, sendDocument } from '../common/http/wire';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { FORMATS, FORMAT_ALIASES, QUERY_NAMES, TILED_API_VERSION, TILED_COMPAT_VERSION, TILED_TS_VERSION } from './about.constants';

const HEALTHZ_BODY = Buffer.from(JSON.stringify({ status: 'ready' }));

@Controller()
export class AboutController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ABOUT_PROVIDERS) private readonly providers: AboutProvidersSource,
  ) {}

  @Public()
  @Get('healthz')
  healthz(@Res() reply: FastifyReply): FastifyReply {
    // A Buffer body keeps the content type exactly application/json (Tiled's), without "; charset=utf-8".
    return reply.header('content-type', 'application/json').send(HEALTHZ_BODY);
  }

  /** Tiled's about document (captured in 01-about.txt): every top-level key is required by the Python client. */
  @Public()
  @Get('api/v1/')
  about(@Req() request: FastifyRequest, @Res() reply: FastifyReply): FastifyReply {
    const base = apiBase(request);
    const providers = this.providers.describe(base, request.headers['user-agent']);
    const document = {
      api_version: TILED_API_VERSION,
      library_version: TILED_COMPAT_VERSION,
      formats: FORMATS,
      aliases: FORMAT_ALIASES,
      queries: QUERY_NAMES,
      authentication: {
        required: !this.config.authentication.allow_anonymous_access,
        providers,
        links:
          providers.length === 0
            ? null
            : {
                whoami: `${base}/auth/whoami`,
                apikey: `${base}/auth/apikey`,
                refresh_session: `${base}/auth/session/refresh`,
                revoke_session: `${base}/auth/session/revoke/{session_id}`,
                logout: `${base}/auth/logout`,
              },
      },
      links: { self: base, documentation: `${base}/docs` },
      meta: { root_path: '/api', server: 'tiled-ts', tiled_ts_version: TILED_TS_VERSION },
    };
    return sendDocument(request, reply, document, { etag: true, expires: new Date(Date.now() + 600_000) });
  }
}
