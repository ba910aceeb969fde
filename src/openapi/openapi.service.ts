import { Inject, Injectable } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ABOUT_PROVIDERS, AboutProvidersSource } from '../about/about.providers';
import { buildOpenApiDocument } from './openapi-document';

/**
 * The app's OpenAPI document, built on the first request that asks for it and then kept: building it
 * at startup would add @nestjs/swagger's load time to every cold start, for a page few requests need.
 */
@Injectable()
export class OpenApiService {
  private app: NestFastifyApplication | undefined;
  private document: Promise<Buffer> | undefined;

  constructor(@Inject(ABOUT_PROVIDERS) private readonly providers: AboutProvidersSource) {}

  /** The document describes the app it is served by; bootstrap hands the app over once it exists. */
  attach(app: NestFastifyApplication): void {
    this.app = app;
  }

  /**
   * Build the document now, in the background, once the server listens. Loading @nestjs/swagger and
   * scanning the routes holds the event loop for about 0.3 s; done lazily inside the first
   * `/openapi.json` request, that pause fell on whatever other requests were in flight then.
   */
  warmAfterListen(): void {
    setImmediate(() => void this.json().catch(() => undefined));
  }

  /** The document as JSON bytes. */
  json(): Promise<Buffer> {
    if (!this.document) {
      const app = this.app;
      if (!app) throw new Error('OpenApiService.attach(app) was not called');
      this.document = buildOpenApiDocument(app, this.providers).then((document) => Buffer.from(JSON.stringify(document)));
      // A failure is not cached: the next request tries again (and reports the error again).
      this.document.catch(() => (this.document = undefined));
    }
    return this.document;
  }
}
