import { Controller, Get, Inject, Param, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { CSRF_COOKIE } from '../common/http/http-hooks';
import { BodyResponse, RespondsWithBody, RespondsWithJson, redirectTo } from '../common/http/responds';
import { JSON_TYPE, toJson } from '../common/http/wire';
import { failurePage, successPage, userCodeForm } from './device-code.pages';
import { DEVICE_FLOW_START_SCHEMA, EXTERNAL_LOGIN_OPTIONS, ExternalLoginOptions, ExternalLoginService } from './external-login.service';
import { publicApiBase } from './public-url';
import { DeclaresBody, DescribedDto } from '../common/validation/openapi-schema';

/** The user-code page's form (`device-code.pages.ts`); `code` and `state` may come in the query string instead. */
const USER_CODE_FORM: DescribedDto = {
  openApi: {
    title: 'UserCodeForm',
    type: 'object',
    properties: { user_code: { type: 'string', maxLength: 12 }, code: { type: 'string' }, state: { type: 'string' } },
    required: ['user_code'],
  },
};

/**
 * Tiled's external-provider routes (docs/oauth.md §3). Every route is @Public(): they are how a caller
 * without credentials obtains some, and each one checks its own proof instead (the `state` the server
 * issued, the user code, the device code). The polling route `POST …/token` is shared with internal
 * providers and lives in the sessions controller, which hands external providers to
 * `ExternalLoginService.pollDeviceCode`.
 */
@Controller('api/v1/auth/provider/:provider')
export class ExternalLoginController {
  constructor(
    private readonly service: ExternalLoginService,
    @Inject(EXTERNAL_LOGIN_OPTIONS) private readonly options: ExternalLoginOptions,
  ) {}

  /** Public: the browser arrives here with nothing but the wish to log in. */
  @Public()
  @Get('authorize')
  @RespondsWithBody()
  async authorize(@Param('provider') provider: string, @Query('state') clientState: unknown, @Req() request: FastifyRequest): Promise<BodyResponse> {
    const location = await this.service.beginBrowserLogin(provider, this.base(request), typeof clientState === 'string' ? clientState : undefined, request.ip);
    return redirectTo(location, 307);
  }

  /** Public: the provider's redirect; the proof is the single-use `state` this server issued. */
  @Public()
  @Get('code')
  @RespondsWithBody()
  async code(@Param('provider') provider: string, @Req() request: FastifyRequest): Promise<BodyResponse> {
    const result = await this.service.completeBrowserLogin(provider, stringQuery(request));
    if (result.kind === 'redirect') return redirectTo(result.location, 302);
    return tokensJson(result.tokens);
  }

  /** Public: a terminal without credentials starts the device flow (Tiled's own variant of RFC 8628). */
  @Public()
  @Post('authorize')
  @RespondsWithJson({ noStore: true, schema: DEVICE_FLOW_START_SCHEMA })
  startDevice(@Param('provider') provider: string, @Req() request: FastifyRequest): Promise<unknown> {
    return this.service.startDeviceFlow(provider, this.base(request), request.ip);
  }

  /** Public: the provider sends the user's browser here; the page only asks for the user code. */
  @Public()
  @Get('device_code')
  @RespondsWithBody()
  async deviceCodeForm(@Param('provider') provider: string, @Req() request: FastifyRequest): Promise<BodyResponse> {
    const query = stringQuery(request);
    const problem = await this.service.checkDeviceLanding(provider, query);
    if (problem) return htmlPage(problem.status, failurePage(problem.message));
    return htmlPage(200, userCodeForm({ action: formAction(request), code: query.code, state: query.state }));
  }

  /** Public: the proof is the pair (server-issued state, user code); wrong codes are counted and limited. */
  @Public()
  @Post('device_code')
  @DeclaresBody(USER_CODE_FORM, 'application/x-www-form-urlencoded')
  @RespondsWithBody()
  async submitDeviceCode(@Param('provider') provider: string, @Req() request: FastifyRequest): Promise<BodyResponse> {
    const form = { ...stringQuery(request), ...stringRecord(request.body) };
    const result = await this.service.submitUserCode(provider, form, request.ip);
    if (result.kind === 'success') return htmlPage(200, successPage(result.interval));
    if (result.kind === 'retry') {
      return htmlPage(result.status, userCodeForm({ action: formAction(request), code: form.code ?? '', state: form.state ?? '', message: result.message }));
    }
    return htmlPage(result.status, failurePage(result.message));
  }

  private base(request: FastifyRequest): string {
    return publicApiBase(this.options.publicBaseUrl, request);
  }
}

/** The form posts back to this same path; the double-submit CSRF token rides along for cookie-holding browsers. */
function formAction(request: FastifyRequest): string {
  const path = request.url.split('?')[0];
  const csrf = request.cookies?.[CSRF_COOKIE];
  return csrf ? `${path}?csrf=${encodeURIComponent(csrf)}` : path;
}

function stringQuery(request: FastifyRequest): Record<string, string> {
  return stringRecord(request.query);
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) if (typeof item === 'string') out[key] = item;
  }
  return out;
}

/** Token-issuing routes answer plain JSON whatever the Accept header, as in Tiled 0.2.16, never cached. */
function tokensJson(payload: unknown): BodyResponse {
  return { body: toJson(payload), type: JSON_TYPE, headers: NO_STORE };
}

const NO_STORE = { 'cache-control': 'no-store' };
const PAGE_HEADERS = { 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'" };

function htmlPage(status: number, html: string): BodyResponse {
  return { body: html, type: 'text/html; charset=utf-8', status, headers: PAGE_HEADERS };
}
