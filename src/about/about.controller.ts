import { Controller, Get, Inject, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { ABOUT_PROVIDERS, AboutProvidersSource } from './about.providers';
import { ABOUT_SCHEMA } from './about.schema';
import { BodyResponse, RespondsWithBody, RespondsWithDocument, ResponseSchema } from '../common/http/responds';
import { apiBase } from '../common/http/wire';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { FORMATS, FORMAT_ALIASES, QUERY_NAMES, TILED_API_VERSION, TILED_COMPAT_VERSION, TILED_TS_VERSION } from './about.constants';

const HEALTHZ: BodyResponse = { body: Buffer.from(JSON.stringify({ status: 'ready' })), type: 'application/json' };
/** Tiled lets clients cache the about document for ten minutes. */
const ABOUT_LIFETIME_MS = 600_000;

@Controller()
export class AboutController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ABOUT_PROVIDERS) private readonly providers: AboutProvidersSource,
  ) {}

  /** One constant body: health checks are polled often and must stay the cheapest answer there is. */
  @Public()
  @Get('healthz')
  @RespondsWithBody()
  @ResponseSchema({ type: 'object', properties: { status: { type: 'string', enum: ['ready'] } }, required: ['status'] })
  healthz(): BodyResponse {
    return HEALTHZ;
  }

  /** Tiled's about document (captured in 01-about.txt): every top-level key is required by the Python client. */
  @Public()
  @Get('api/v1/')
  @RespondsWithDocument({ expiresInMs: ABOUT_LIFETIME_MS, schema: ABOUT_SCHEMA })
  about(@Req() request: FastifyRequest): object {
    const base = apiBase(request);
    const providers = this.providers.describe(base, request.headers['user-agent']);
    const session = this.providers.sessionLinks?.();
    return {
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
                refresh_session: session?.refresh_session ?? `${base}/auth/session/refresh`,
                revoke_session: `${base}/auth/session/revoke/{session_id}`,
                logout: session?.logout ?? `${base}/auth/logout`,
              },
      },
      links: { self: base, documentation: `${base}/docs` },
      meta: { root_path: '/api', server: 'tiled-ts', tiled_ts_version: TILED_TS_VERSION },
    };
  }
}
