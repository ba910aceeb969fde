import { Body, Controller, Delete, ExecutionContext, Get, HttpCode, Inject, Optional, Param, Post, Req, Res, createParamDecorator } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Authenticated, CurrentAuth, Public } from '../auth/auth.decorators';
import type { AuthContext } from '../auth/auth-context';
import { CREDENTIAL_RESOLVER, CredentialResolver } from '../auth/credentials';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { API_KEY_COOKIE, appendSetCookie } from '../common/http/http-hooks';
import { RespondsWithDocument, RespondsWithJson } from '../common/http/responds';
import { apiBase } from '../common/http/wire';
import { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';
import { PrincipalJson, PrincipalsService } from '../principals/principals.service';
import { DEVICE_CODE_POLLER, DeviceCodePoller } from './device-code-poller';
import { LoginService } from './login.service';
import { PasswordGrantDto } from './dto/password-grant.dto';
import { LogoutDto, RefreshTokenDto } from './dto/refresh-token.dto';
import { Fields } from '../common/validation/fields';
import { REFRESH_RESPONSE_SCHEMA, RefreshResponse, SessionsService, TOKEN_RESPONSE_SCHEMA } from './sessions.service';
import { DeclaresBody, nullable } from '../common/validation/openapi-schema';
import { PRINCIPAL_SCHEMA } from '../principals/principal.dto';

/** A form-encoded body, as FastAPI sees it where it expects JSON: a string, not an object. */
const JsonBody = createParamDecorator((_: unknown, context: ExecutionContext): unknown => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const body = request.body;
  if (!isFormEncoded(request) || !body || typeof body !== 'object') return body;
  return new URLSearchParams(body as Record<string, string>).toString();
});

function isFormEncoded(request: FastifyRequest): boolean {
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  return type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data');
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

  /**
   * OAuth2 password grant (form body). Unknown or external providers are a plain 404, as in Tiled, before
   * any body check: which body this route takes depends on the provider, so the services validate it.
   */
  @Public()
  @Post('provider/:provider/token')
  @DeclaresBody(PasswordGrantDto, 'application/x-www-form-urlencoded')
  @RespondsWithJson({ schema: TOKEN_RESPONSE_SCHEMA })
  async token(@Param('provider') provider: string, @Req() request: FastifyRequest): Promise<unknown> {
    if (!this.registry.internal(provider)) {
      // External providers poll for device-code completion on this same path; the external-login module answers.
      const external = this.registry.external(provider) ? this.deviceCodes : null;
      if (!external) throw new TiledHttpError(404, 'Not Found');
      return external.pollDeviceCode(provider, new Fields('body', request.body).optionalString('device_code'));
    }
    // OAuth2's password grant is a form; Tiled reads no fields from a JSON body (422, both fields missing).
    const grant = PasswordGrantDto.parse(isFormEncoded(request) ? request.body : {});
    return this.login.passwordLogin(provider, grant, request.ip);
  }

  @Public()
  @Post('session/refresh')
  @DeclaresBody(RefreshTokenDto)
  @RespondsWithJson({ schema: REFRESH_RESPONSE_SCHEMA })
  refresh(@JsonBody() body: RefreshTokenDto): Promise<RefreshResponse> {
    return this.sessions.refresh(body.refresh_token);
  }

  @Public()
  @Post('session/revoke')
  @DeclaresBody(RefreshTokenDto)
  @HttpCode(204)
  async revoke(@JsonBody() body: RefreshTokenDto): Promise<void> {
    await this.sessions.revokeByRefreshToken(body.refresh_token);
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
  @RespondsWithJson({ schema: { type: 'object', maxProperties: 0 } })
  async logout(@Body() body: LogoutDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<object> {
    let sessionId: string | undefined;
    try {
      const auth = await this.resolver.resolve(request);
      sessionId = auth.sessionId;
    } catch {
      // An expired or unknown credential still gets logged out of the cookie.
    }
    await this.sessions.logout(body.refresh_token, sessionId);
    appendSetCookie(reply, `${API_KEY_COOKIE}=""; expires=${new Date().toUTCString()}; Max-Age=0; Path=/; SameSite=lax`);
    return {};
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
  @RespondsWithDocument({ schema: nullable(PRINCIPAL_SCHEMA) })
  async whoami(@Req() request: FastifyRequest): Promise<PrincipalJson | null> {
    const auth = await this.resolver.resolve(request);
    if (!auth.principal) return null;
    const principal = await this.principals.findByUuid(auth.principal.uuid);
    if (!principal) {
      throw new TiledHttpError(401, 'Principal no longer exists.', { 'www-authenticate': 'Bearer', 'x-tiled-root': apiBase(request) });
    }
    return this.principals.describe(principal.id);
  }
}
