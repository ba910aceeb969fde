import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../auth/auth-context';
import { CurrentAuth, Public, Scopes } from '../auth/auth.decorators';
import { presentedApiKey } from '../auth/credentials';
import { sendDocument } from '../common/http/wire';
import { ApiKeysService } from './api-keys.service';

/** The caller's own keys (docs/api-keys-server.md). */
@Controller('api/v1/auth')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Scopes(['create:apikeys'])
  @Post('apikey')
  async create(
    @CurrentAuth() auth: AuthContext,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return sendDocument(request, reply, await this.apiKeys.createForCaller(auth, body), { etag: true });
  }

  /**
   * Public on purpose: this route checks the key itself, because Tiled answers its failures without the
   * WWW-Authenticate/X-Tiled-Root headers of the guard and does not count the inspection as key activity.
   */
  @Public()
  @Get('apikey')
  async inspect(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const presented = presentedApiKey(request);
    return sendDocument(request, reply, await this.apiKeys.inspect(presented?.key), { etag: true });
  }

  @Scopes(['revoke:apikeys'])
  @Delete('apikey')
  @HttpCode(HttpStatus.NO_CONTENT)
  async revoke(@CurrentAuth() auth: AuthContext, @Query('first_eight') firstEight: unknown): Promise<void> {
    await this.apiKeys.revokeForCaller(auth, firstQueryValue(firstEight));
  }
}

/** A repeated query parameter arrives as a list; FastAPI takes the last, which is as good as any. */
export function firstQueryValue(value: unknown): string | undefined {
  if (Array.isArray(value)) return firstQueryValue(value[value.length - 1]);
  return typeof value === 'string' ? value : undefined;
}
