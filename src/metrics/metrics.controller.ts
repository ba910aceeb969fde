import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Scopes } from '../auth/auth.decorators';
import { HttpMetrics } from './http-metrics';

/** Tiled's `GET /api/v1/metrics` (server/metrics.py): the Prometheus text format, for holders of `metrics`. */
@Controller('api/v1')
export class MetricsController {
  constructor(private readonly metrics: HttpMetrics) {}

  @Scopes(['metrics'])
  @Get('metrics')
  async scrape(@Res() reply: FastifyReply): Promise<FastifyReply> {
    const { contentType, body } = await this.metrics.exposition();
    return reply.header('content-type', contentType).send(body);
  }
}
