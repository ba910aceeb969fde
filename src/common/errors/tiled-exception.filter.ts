import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, statusOfErrorCode } from './domain-error';
import { TiledHttpError } from './tiled-http.error';
import { AdapterError } from '../../adapters/adapter.types';
import { JSON_TYPE, toJson } from '../http/wire';
import { redactUrl } from '../logging/redact';
import { bodyTooLargeDetail, drainRefusedBody } from '../http/json-limits';

/**
 * Every error leaves as Tiled's `{"detail": …}` with `Content-Type: application/json` exactly
 * (the Python client only extracts `detail` when the header is exactly that). A module's coded
 * `DomainError` gets the status its module declared for the code (`defineErrorCodes`).
 * Unknown errors become a generic 500, logged once with the request id; never a stack trace on the wire.
 */
@Catch()
export class TiledExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    let status = 500;
    let detail: unknown = 'Internal server error';
    let headers: Readonly<Record<string, string>> = {};

    if (exception instanceof TiledHttpError) {
      ({ status, detail, headers } = exception);
    } else if (exception instanceof DomainError && statusOfErrorCode(exception.code) !== undefined) {
      ({ status, detail, headers } = exception);
    } else if (exception instanceof AdapterError) {
      // A file that cannot be read fails its own node with the adapter's status, never as an anonymous 500.
      status = exception.status;
      detail = exception.message;
      this.logger.warn(`${request.method} ${redactUrl(request.url)} [${String(request.id)}]: ${exception.message}`);
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const response = exception.getResponse();
      detail = isBodyTooLarge(exception.cause) ? bodyTooLargeDetail(request) : nestDetail(status, response);
    } else if (isFastifyClientError(exception)) {
      status = exception.statusCode;
      detail = isBodyTooLarge(exception) ? bodyTooLargeDetail(request) : exception.message;
    } else {
      this.logger.error(
        `Unhandled error on ${request.method} ${redactUrl(request.url)} [${String(request.id)}]`,
        exception instanceof Error ? exception.stack : String(exception),
      );
    }
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    const send = (): void => void reply.code(status).header('content-type', JSON_TYPE).send(Buffer.from(toJson({ detail })));
    if (status === 413) void drainRefusedBody(request).then(send);
    else send();
  }
}

function nestDetail(status: number, response: string | object): unknown {
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (status === 404 && typeof message === 'string' && message.startsWith('Cannot ')) return 'Not Found';
  if (status === 405) return 'Method Not Allowed';
  return message ?? response;
}

/** Fastify's "body too large" reaches here wrapped by Nest (as the cause) or bare. */
function isBodyTooLarge(e: unknown): boolean {
  return (e as { code?: unknown } | undefined)?.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
}

/** Fastify's own 4xx (bad JSON, body too large, unsupported media type) carry a statusCode. */
function isFastifyClientError(e: unknown): e is { statusCode: number; message: string } {
  const code = (e as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' && code >= 400 && code < 500;
}
