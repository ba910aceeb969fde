import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, isSingleUser } from '../config/app-config';
import { AuthenticationMethod, HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';

/** Prometheus metrics (config `metrics.prometheus`). AppModule leaves it out when they are off, so the route is a 404. */
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    const methods: AuthenticationMethod[] = isSingleUser(config) ? ['single-user', 'anonymous'] : ['apikey', 'token', 'anonymous'];
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [{ provide: HttpMetrics, useValue: new HttpMetrics(methods) }],
      exports: [HttpMetrics],
    };
  }
}
