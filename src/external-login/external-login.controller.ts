import { Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/auth.decorators';
import { CSRF_COOKIE } from '../common/http/http-hooks';
import { toJson } from '../common/http/wire';
import { failurePage, successPage, userCodeForm } from './device-code.pages';
import { EXTERNAL_LOGIN_OPTIONS, ExternalLoginOptions, ExternalLoginService } from './external-login.service';
import { publicApiBase } from './public-url';

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
  async authorize(
    @Param('provider') provider: string,
    @Query('state') clientState: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const location = await this.service.beginBrowserLogin(provider, this.base(request), typeof clientState === 'string' ? clientState : undefined, request.ip);
    void reply.code(307).header('location', location).header('cache-control', 'no-store').send();
  }

  /** Public: the provider's redirect; the proof is the single-use `state` this server issued. */
  @Public()
  @Get('code')
  async code(@Param('provider') provider: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const result = await this.service.completeBrowserLogin(provider, stringQuery(request));
    if (result.kind === 'redirect') {
      void reply.code(302).header('location', result.location).header('cache-control', 'no-store').send();
      return;
    }
    sendJson(reply, 200, result.tokens);
  }

  /** Public: a terminal without credentials starts the device flow (Tiled's own variant of RFC 8628). */
  @Public()
  @Post('authorize')
  @HttpCode(200)
  async startDevice(@Param('provider') provider: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    sendJson(reply, 200, await this.service.startDeviceFlow(provider, this.base(request), request.ip));
  }

  /** Public: the provider sends the user's browser here; the page only asks for the user code. */
  @Public()
  @Get('device_code')
  async deviceCodeForm(@Param('provider') provider: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const query = stringQuery(request);
    const problem = await this.service.checkDeviceLanding(provider, query);
    if (problem) {
      sendHtml(reply, problem.status, failurePage(problem.message));
      return;
    }
    sendHtml(reply, 200, userCodeForm({ action: formAction(request), code: query.code, state: query.state }));
  }

  /** Public: the proof is the pair (server-issued state, user code); wrong codes are counted and limited. */
  @Public()
  @Post('device_code')
  async submitDeviceCode(@Param('provider') provider: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const form = { ...stringQuery(request), ...stringRecord(request.body) };
    const result = await this.service.submitUserCode(provider, form, request.ip);
    if (result.kind === 'success') sendHtml(reply, 200, successPage(result.interval));
    else if (result.kind === 'retry') sendHtml(reply, result.status, userCodeForm({ action: formAction(request), code: form.code ?? '', state: form.state ?? '', message: result.message }));
    else sendHtml(reply, result.status, failurePage(result.message));
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

/** Token-issuing routes answer plain JSON whatever the Accept header, as in Tiled 0.2.16; a Buffer avoids "; charset". */
function sendJson(reply: FastifyReply, status: number, payload: unknown): void {
  void reply.code(status).header('content-type', 'application/json').header('cache-control', 'no-store').send(Buffer.from(toJson(payload)));
}

function sendHtml(reply: FastifyReply, status: number, html: string): void {
  void reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .send(Buffer.from(html));
}
