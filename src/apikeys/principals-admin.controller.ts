import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../auth/auth-context';
import { CurrentAuth, Scopes } from '../auth/auth.decorators';
import { sendDocument } from '../common/http/wire';
import { firstQueryValue } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { PrincipalsAdminService } from './principals-admin.service';

/** Administration of principals and of keys on someone's behalf (docs/http-api.md). */
@Controller('api/v1/auth/principal')
export class PrincipalsAdminController {
  constructor(
    private readonly principals: PrincipalsAdminService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  @Scopes(['read:principals'])
  @Get()
  async list(@Query() query: Record<string, unknown>, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    return sendDocument(request, reply, await this.principals.list(query), { etag: true });
  }

  @Scopes(['write:principals'])
  @Post()
  async createService(
    @CurrentAuth() auth: AuthContext,
    @Query('role') role: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return sendDocument(request, reply, await this.principals.createService(auth, firstQueryValue(role)), { etag: true });
  }

  @Scopes(['read:principals'])
  @Get(':uuid')
  async show(@Param('uuid') uuid: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    return sendDocument(request, reply, await this.principals.show(uuid), { etag: true });
  }

  @Scopes(['admin:apikeys'])
  @Post(':uuid/apikey')
  async createApiKey(
    @CurrentAuth() auth: AuthContext,
    @Param('uuid') uuid: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const normalized = this.principals.parseUuid(uuid);
    return sendDocument(request, reply, await this.apiKeys.createForPrincipal(auth, normalized, body), { etag: true });
  }

  @Scopes(['admin:apikeys'])
  @Delete(':uuid/apikey')
  @HttpCode(HttpStatus.NO_CONTENT)
  async revokeApiKey(@CurrentAuth() auth: AuthContext, @Param('uuid') uuid: string, @Query('first_eight') firstEight: unknown): Promise<void> {
    const normalized = this.principals.parseUuid(uuid);
    await this.apiKeys.revokeForPrincipal(auth, normalized, firstQueryValue(firstEight));
  }
}
