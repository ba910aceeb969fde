import 'reflect-metadata';
import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import { AppModule } from '../app.module';
import { AppConfig, isSingleUser, metricsEnabled } from '../config/app-config';
import { installHttpHooks } from '../common/http/http-hooks';
import { corsOptions } from '../common/http/cors';
import type { SingleUserKey } from '../auth/single-user-key';
import { validateDeployment } from './validate-deployment';
import { DATA_BODY_LIMIT, installBodyLimits } from '../common/http/json-limits';
import { HttpMetrics } from '../metrics/http-metrics';
import { installMetricsHook } from '../metrics/metrics.hook';
import { OpenApiService } from '../openapi/openapi.service';
import { answerClientError, answerFrameworkError } from './malformed-request';
import type { TreeNode } from '../catalog/tree/tree.types';

/** Time a client has to send a whole request, headers and body (ms). */
export const REQUEST_TIMEOUT_MS = 30_000;
/** Time a client has to send the request line and headers (ms). */
export const HEADERS_TIMEOUT_MS = 10_000;

export interface BootstrapOptions {
  /** `--api-key` from the command line. */
  apiKey?: string;
  /** A tree built by the command itself (`serve directory`), served instead of the config's `trees`. */
  catalogRoot?: TreeNode;
}

export interface BuiltApp {
  app: NestFastifyApplication;
  /** Single-user mode only. */
  singleUserKey?: SingleUserKey;
}

/** Build the application exactly as `tiled serve` runs it; e2e tests use this same function. */
export async function createApp(config: AppConfig, options: BootstrapOptions = {}): Promise<BuiltApp> {
  // Every configuration check first (the same ones `tiled admin check-config` runs), then the database.
  const { singleUserKey, authenticators, catalogRoot, accessPolicy } = await validateDeployment(config, options);
  // Loaded only when needed: the database, plugin host and token modules are most of a cold start.
  const multiUserAuth = authenticators
    ? (await import('../auth/multi-user-auth.module')).MultiUserAuthModule.forRootAsync(config, { authenticators })
    : undefined;

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
    // Requests refused before any route runs, answered in Tiled's shape without echoing them.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot({ config, singleUserApiKey: singleUserKey?.key, multiUserAuth, catalogRoot, accessPolicy }),
    adapter,
    { logger: new StartupQuietLogger(config.server.verbose), abortOnError: false },
  );
  installBodyLimits(app, { writeBodyLimit: config.write_body_limit });
  // Without listed origins nothing is added: no hook on the hot path, and a preflight finds no route.
  if (config.allow_origins.length) app.enableCors(corsOptions(config.allow_origins));
  await app.register(fastifyCookie);
  installHttpHooks(app.getHttpAdapter().getInstance(), { accessLog: config.server.verbose, timestamps: config.server.logTimestamps });
  if (metricsEnabled(config)) installMetricsHook(app.getHttpAdapter().getInstance(), app.get(HttpMetrics), isSingleUser(config));
  app.get(OpenApiService).attach(app);
  app.enableShutdownHooks();
  return { app, singleUserKey };
}

/** Work that must not delay startup, nor fall inside a request: run once the server listens. */
export function afterListen(app: NestFastifyApplication): void {
  app.get(OpenApiService).warmAfterListen();
}

/**
 * Nest's logger, minus its ExceptionHandler report of a failed startup: createApp's caller prints that
 * failure once, as one clear line (a config error must not arrive three times with an object dump).
 * Under --verbose it also drops Nest's wiring chatter (a line per module and per route: docs/http-api.md
 * lists the routes), which buried the startup lines an operator reads.
 */
class StartupQuietLogger extends ConsoleLogger {
  private static readonly WIRING = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

  constructor(verbose: boolean) {
    super('Tiled', { logLevels: (verbose ? ['error', 'warn', 'log'] : ['error', 'warn']) as LogLevel[] });
  }

  override log(message: unknown, ...rest: unknown[]): void {
    if (StartupQuietLogger.WIRING.has(rest[rest.length - 1] as string)) return;
    super.log(message, ...(rest as string[]));
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
