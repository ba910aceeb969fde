import { Controller, Get } from '@nestjs/common';
import { Scopes } from '../auth/auth.decorators';
import { BodyResponse, RespondsWithBody } from '../common/http/responds';
import { HttpMetrics } from './http-metrics';

/** Tiled's `GET /api/v1/metrics` (server/metrics.py): the Prometheus text format, for holders of `metrics`. */
@Controller('api/v1')
export class MetricsController {
  constructor(private readonly metrics: HttpMetrics) {}

  @Scopes(['metrics'])
  @Get('metrics')
  @RespondsWithBody()
  async scrape(): Promise<BodyResponse> {
    const { contentType, body } = await this.metrics.exposition();
    return { body, type: contentType };
  }
}
