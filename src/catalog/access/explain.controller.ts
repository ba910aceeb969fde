import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthContext } from '../../auth/auth-context';
import { Authenticated, CurrentAuth } from '../../auth/auth.decorators';
import { sendDocument } from '../../common/http/wire';
import { one, queryOf } from '../http/query-params';
import { ExplainService } from './explain.service';

/** "Why was I refused?" (docs/access-control.md): multi-user mode only, beside the other /auth routes. */
@Controller('api/v1/auth')
export class ExplainController {
  constructor(private readonly explainer: ExplainService) {}

  @Authenticated()
  @Get('explain')
  async explain(
    @CurrentAuth() auth: AuthContext,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    const query = queryOf(request);
    return sendDocument(request, reply, await this.explainer.explain(auth, one(query, 'path'), one(query, 'scope')));
  }
}
