import { Controller, Delete, HttpCode, Inject, Optional, Param, Post, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentAuth, Public } from '../auth/auth.decorators';
import type { AuthContext } from '../auth/auth-context';
import { CREDENTIAL_RESOLVER, CredentialResolver } from '../auth/credentials';
import { TiledHttpError, UnprocessableError } from '../common/errors/tiled-http.error';
import { API_KEY_COOKIE, appendSetCookie } from '../common/http/http-hooks';
import { apiBase, sendDocument } from '../common/http/wire';
import { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';
import { PrincipalsService } from '../principals/principals.service';
import { DEVICE_CODE_POLLER, DeviceCodePoller } from './device-code-poller';
import { LoginService } from './login.service';
import { SessionsService } from './sessions.service';

/** Token-issuing routes always answer plain JSON (as Tiled 0.2.16 does), sent as a Buffer for the exact content type. */
function sendJson(reply: FastifyReply, status: number, payload: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(payload)));
}

/** A form-encoded body, as FastAPI sees it where it expects JSON: a string, not an object. */
function asJsonBody(request: FastifyRequest): unknown {
  const body = request.body;
  if (!isFormEncoded(request) || !body || typeof body !== 'object') return body;
  return new URLSearchParams(body as Record<string, string>).toString();
}

function isFormEncoded(request: FastifyRequest): boolean {
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data');
}

function refreshTokenFrom(body: unknown): string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw UnprocessableError.of(['body'], 'Input should be a valid dictionary or object to extract fields from', 'model_attributes_type', body ?? null);
  }
  const token = (body as Record<string, unknown>).refresh_token;
  if (token === undefined) throw UnprocessableError.of(['body', 'refresh_token'], 'Field required', 'missing', body);
  if (typeof token !== 'string') throw UnprocessableError.of(['body', 'refresh_token'], 'Input should be a valid string', 'string_type', token);
  return token;
}

@Controller('api/v1/auth')
export class AuthnController {
  constructor(
    private readonly login: LoginService,
    private readonly sessions: SessionsService,
    private readonly principals: PrincipalsService,
    private readonly registry: AuthenticatorRegistry,
    @Inject(CREDENTIAL_RESOLVER) private readonly resolver: CredentialResolver,
    @Optional() @Inject(DEVICE_CODE_POLLER) private readonly deviceCodes: DeviceCodePoller | null,
  ) {}

  /** OAuth2 password grant (form body). Unknown or external providers are a plain 404, as in Tiled. */
  @Public()
  @Post('provider/:provider/token')
  async token(@Param('provider') provider: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    if (!this.registry.internal(provider)) {
      // External providers poll for device-code completion on this same path; the external-login module answers.
      const external = this.registry.external(provider) ? this.deviceCodes : null;
      if (!external) throw new TiledHttpError(404, 'Not Found');
      return sendJson(reply, 200, await external.pollDeviceCode(provider, request.body));
    }
    // OAuth2's password grant is a form; Tiled reads no fields from a JSON body (422, both fields missing).
    const form = isFormEncoded(request) ? formFields(request.body) : {};
    const response = await this.login.passwordLogin(provider, form, request.ip);
    return sendJson(reply, 200, response);
  }

  @Public()
  @Post('session/refresh')
  async refresh(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    return sendJson(reply, 200, await this.sessions.refresh(refreshTokenFrom(asJsonBody(request))));
  }

  @Public()
  @Post('session/revoke')
  @HttpCode(204)
  async revoke(@Req() request: FastifyRequest): Promise<void> {
    await this.sessions.revokeByRefreshToken(refreshTokenFrom(asJsonBody(request)));
  }

  @Authenticated()
  @Delete('session/revoke/:sessionId')
  @HttpCode(204)
  async revokeById(@CurrentAuth() auth: AuthContext, @Param('sessionId') sessionId: string): Promise<void> {
    if (!auth.principal) throw new TiledHttpError(401, 'Not authenticated', { 'www-authenticate': 'Bearer' });
    await this.sessions.revokeById(auth.principal.uuid, sessionId);
  }

  /**
   * Tiled's logout only clears the API-key cookie; here it also revokes the session named by a refresh
   * token in the body, or the one the Bearer access token belongs to.
   */
  @Public()
  @Post('logout')
  async logout(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const body = request.body as Record<string, unknown> | undefined;
    const refreshToken = body && typeof body === 'object' && typeof body.refresh_token === 'string' ? body.refresh_token : undefined;
    let sessionId: string | undefined;
    try {
      const auth = await this.resolver.resolve(request);
      sessionId = auth.sessionId;
    } catch {
      // An expired or unknown credential still gets logged out of the cookie.
    }
    await this.sessions.logout(refreshToken, sessionId);
    appendSetCookie(reply, `${API_KEY_COOKIE}=""; expires=${new Date().toUTCString()}; Max-Age=0; Path=/; SameSite=lax`);
    return sendJson(reply, 200, {});
  }

  /** Starlette answers a known path with the wrong method 405 and the methods it takes, not 404. */
  @Public()
  @Get(['provider/:provider/token', 'session/refresh', 'session/revoke', 'logout'])
  wrongMethod(): never {
    throw new TiledHttpError(405, 'Method Not Allowed', { allow: 'POST' });
  }

  /** Anonymous callers get 200 `null` (as Tiled), so it resolves credentials itself instead of via the guard. */
  @Public()
  @Get('whoami')
  async whoami(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const auth = await this.resolver.resolve(request);
    if (!auth.principal) return sendDocument(request, reply, null, { etag: true });
    const principal = await this.principals.findByUuid(auth.principal.uuid);
    if (!principal) {
      throw new TiledHttpError(401, 'Principal no longer exists.', { 'www-authenticate': 'Bearer', 'x-tiled-root': apiBase(request) });
    }
    return sendDocument(request, reply, await this.principals.describe(principal.id), { etag: true });
  }
}

function formFields(body: unknown): Record<string, unknown> {
  if (body && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
  return {};
}
