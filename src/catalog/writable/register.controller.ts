import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scopes } from '../../auth/auth.decorators';
import { apiBase, sendDocument } from '../../common/http/wire';
import { RegisterService } from './register.service';

/** Tiled 0.2.16's registration of external files (docs/files.md, "Registering files"). */
@Controller('api/v1')
export class RegisterController {
  constructor(private readonly registrations: RegisterService) {}

  @Scopes(['write:metadata', 'create:node', 'register'])
  @Post(['register', 'register/*'])
  @HttpCode(200)
  async register(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<FastifyReply> {
    const path = (request.params as { '*'?: string })['*'];
    return sendDocument(request, reply, await this.registrations.register(path, body, apiBase(request)), { etag: true });
  }
}
