import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthContext } from '../auth/auth-context';
import { CurrentAuth, Public, Scopes } from '../auth/auth.decorators';
import { presentedApiKey } from '../auth/credentials';
import { RespondsWithDocument } from '../common/http/responds';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { API_KEY_SCHEMA, API_KEY_WITH_SECRET_SCHEMA, ApiKeyResponseDto, ApiKeyWithSecretResponseDto } from '../principals/api-key-response.dto';
import { FirstEightQueryDto } from './dto/principal-requests.dto';

/** The caller's own keys (docs/api-keys-server.md). */
@Controller('api/v1/auth')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Scopes(['create:apikeys'])
  @Post('apikey')
  @RespondsWithDocument({ schema: API_KEY_WITH_SECRET_SCHEMA })
  create(@CurrentAuth() auth: AuthContext, @Body() body: CreateApiKeyDto): Promise<ApiKeyWithSecretResponseDto> {
    return this.apiKeys.createForCaller(auth, body);
  }

  /**
   * Public on purpose: this route checks the key itself, because Tiled answers its failures without the
   * WWW-Authenticate/X-Tiled-Root headers of the guard and does not count the inspection as key activity.
   */
  @Public()
  @Get('apikey')
  @RespondsWithDocument({ schema: API_KEY_SCHEMA })
  inspect(@Req() request: FastifyRequest): Promise<ApiKeyResponseDto> {
    return this.apiKeys.inspect(presentedApiKey(request)?.key);
  }

  @Scopes(['revoke:apikeys'])
  @Delete('apikey')
  @HttpCode(HttpStatus.NO_CONTENT)
  async revoke(@CurrentAuth() auth: AuthContext, @Query() query: FirstEightQueryDto): Promise<void> {
    await this.apiKeys.revokeForCaller(auth, query.firstEight);
  }
}
