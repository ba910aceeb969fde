import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { CurrentAuth, Scopes } from '../auth/auth.decorators';
import { RespondsWithDocument } from '../common/http/responds';
import type { PrincipalJson } from '../principals/principals.service';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto } from './dto/create-api-key.dto';
import { API_KEY_WITH_SECRET_SCHEMA, ApiKeyWithSecretResponseDto } from '../principals/api-key-response.dto';
import { PRINCIPAL_SCHEMA } from '../principals/principal.dto';
import { FirstEightQueryDto, PrincipalListQueryDto, PrincipalPathDto, ServicePrincipalQueryDto } from './dto/principal-requests.dto';
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
  @RespondsWithDocument({ schema: { type: 'array', items: PRINCIPAL_SCHEMA } })
  list(@Query() query: PrincipalListQueryDto): Promise<PrincipalJson[]> {
    return this.principals.list(query.offset, query.limit);
  }

  @Scopes(['write:principals'])
  @Post()
  @RespondsWithDocument({ schema: PRINCIPAL_SCHEMA })
  createService(@CurrentAuth() auth: AuthContext, @Query() query: ServicePrincipalQueryDto): Promise<PrincipalJson> {
    return this.principals.createService(auth, query.role);
  }

  @Scopes(['read:principals'])
  @Get(':uuid')
  @RespondsWithDocument({ schema: PRINCIPAL_SCHEMA })
  show(@Param() path: PrincipalPathDto): Promise<PrincipalJson> {
    return this.principals.show(path.uuid);
  }

  @Scopes(['admin:apikeys'])
  @Post(':uuid/apikey')
  @RespondsWithDocument({ schema: API_KEY_WITH_SECRET_SCHEMA })
  createApiKey(@CurrentAuth() auth: AuthContext, @Param() path: PrincipalPathDto, @Body() body: CreateApiKeyDto): Promise<ApiKeyWithSecretResponseDto> {
    return this.apiKeys.createForPrincipal(auth, path.uuid, body);
  }

  @Scopes(['admin:apikeys'])
  @Delete(':uuid/apikey')
  @HttpCode(HttpStatus.NO_CONTENT)
  async revokeApiKey(@CurrentAuth() auth: AuthContext, @Param() path: PrincipalPathDto, @Query() query: FirstEightQueryDto): Promise<void> {
    await this.apiKeys.revokeForPrincipal(auth, path.uuid, query.firstEight);
  }
}
