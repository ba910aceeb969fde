import type { Type } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';

/**
 * A Nest application on Fastify over `module`, initialised and ready for `app.inject`: the in-process
 * specs of guards, pipes, filters and decorators. `prepare` runs before init (body limits, cookies).
 */
export async function nestApp(module: Type<unknown>, prepare?: (app: NestFastifyApplication) => void | Promise<unknown>): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  await prepare?.(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
