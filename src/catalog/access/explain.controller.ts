import { Controller, Get, Query } from '@nestjs/common';
import type { AuthContext } from '../../auth/auth-context';
import { Authenticated, CurrentAuth } from '../../auth/auth.decorators';
import { RespondsWithDocument } from '../../common/http/responds';
import { ExplainQueryDto } from '../dto/catalog-queries.dto';
import { EXPLANATION_RESPONSE } from '../dto/catalog-schemas';
import { ExplainService, type Explanation } from './explain.service';

/** "Why was I refused?" (docs/access-control.md): multi-user mode only, beside the other /auth routes. */
@Controller('api/v1/auth')
export class ExplainController {
  constructor(private readonly explainer: ExplainService) {}

  @Authenticated()
  @Get('explain')
  @RespondsWithDocument({ etag: false, schema: EXPLANATION_RESPONSE })
  explain(@CurrentAuth() auth: AuthContext, @Query() query: ExplainQueryDto): Promise<Explanation> {
    return this.explainer.explain(auth, query.path, query.scope);
  }
}
