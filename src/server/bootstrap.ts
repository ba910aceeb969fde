import 'reflect-metadata';
import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import type { FastifyReply } from 'fastify';
import { AppModule } from '../app.module';
import { AppConfig, isSingleUser, metricsEnabled } from '../config/app-config';
import { installHttpHooks } from '../common/http/http-hooks';
import { corsOptions } from '../common/http/cors';
import { DATA_BODY_LIMIT, installBodyLimits } from '../common/http/json-limits';
import { resolveSingleUserKey, SingleUserKey } from '../auth/single-user-key';
import { HttpMetrics } from '../metrics/http-metrics';
import { installMetricsHook } from '../metrics/metrics.hook';

/** Time a client has to send a whole request, headers and body (ms). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Time a client has to send the request line and headers (ms). */
export const HEADERS_TIMEOUT_MS = 10_000;

export interface BootstrapOptions {
  /** `--api-key` from the command line. */
  apiKey?: string;
}

export interface BuiltApp {
  app: NestFastifyApplication;
  /** Single-user mode only. */
  singleUserKey?: SingleUserKey;
}

/** Build the application exactly as `tiled serve` runs it; e2e tests use this same function. */
export async function createApp(config: AppConfig, options: BootstrapOptions = {}): Promise<BuiltApp> {
  const singleUserKey = isSingleUser(config)
    ? resolveSingleUserKey(options.apiKey, config.authentication.single_user_api_key)
    : undefined;
  // Loaded only when needed: the database, plugin host and token modules are most of a cold start.
  const multiUserAuth = isSingleUser(config)
    ? undefined
    : await (await import('../auth/multi-user-auth')).buildMultiUserAuthModule(config);

  const adapter = new FastifyAdapter({
    logger: false,
    // The largest per-route limit; each route gets its own (docs/security.md).
    bodyLimit: DATA_BODY_LIMIT,
    // A client must send its whole request (headers and body) within REQUEST_TIMEOUT_MS, its headers
    // within HEADERS_TIMEOUT_MS; Node checks every second. A connection trickling bytes is closed.
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: { headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
    // Tiled serves `/api/v1/` and redirects `/api/v1`; answering both is simpler and what clients expect.
    routerOptions: { ignoreTrailingSlash: true },
    // Fastify rejects a malformed URL before any route runs; answer it in Tiled's shape, not Fastify's.
    frameworkErrors: (error: Error, _request: unknown, reply: FastifyReply) => {
      void reply
        .code(400)
        .header('content-type', 'application/json')
        .send(Buffer.from(JSON.stringify({ detail: `Malformed request: ${error.message}` })));
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, singleUserApiKey: singleUserKey?.key, multiUserAuth }),
    adapter,
    { logger: new StartupQuietLogger(config.server.verbose), abortOnError: false },
  );
  installBodyLimits(app);
  // Without listed origins nothing is added: no hook on the hot path, and a preflight finds no route.
  if (config.allow_origins.length) app.enableCors(corsOptions(config.allow_origins));
  await app.register(fastifyCookie);
  installHttpHooks(app.getHttpAdapter().getInstance(), { accessLog: config.server.verbose, timestamps: config.server.logTimestamps });
  if (metricsEnabled(config)) installMetricsHook(app.getHttpAdapter().getInstance(), app.get(HttpMetrics), isSingleUser(config));
  app.enableShutdownHooks();
  return { app, singleUserKey };
}

/**
 * Nest's logger, minus its ExceptionHandler report of a failed startup: createApp's caller prints that
 * failure once, as one clear line (a config error must not arrive three times with an object dump).
 */
class StartupQuietLogger extends ConsoleLogger {
  constructor(verbose: boolean) {
    super('Tiled', { logLevels: (verbose ? ['error', 'warn', 'log'] : ['error', 'warn']) as LogLevel[] });
  }

  override error(message: unknown, ...rest: unknown[]): void {
    if (rest.includes('ExceptionHandler')) return;
    super.error(message, ...(rest as string[]));
  }
}

/** The banner the user guide shows; printed only for a key this process generated. */
export function connectBanner(host: string, port: number, key: string): string {
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `\n    Use the following URL to connect to Tiled:\n\n    "http://${shownHost}:${port}?api_key=${key}"\n\n`;
}
