import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where the interactive reference is served; its assets live under this path too. */
export const DOCS_PATH = '/docs';
export const OPENAPI_PATH = '/openapi.json';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The Swagger UI page. Every URL in it is on this server (no CDN): the page must work on a network that
 * cannot reach the internet, and must not tell a third party who reads the documentation. The assets are
 * addressed from the root so the same page works at /docs and at /api/v1/docs (the about document's link).
 */
export const SWAGGER_UI_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tiled - Swagger UI</title>
<link rel="stylesheet" type="text/css" href="${DOCS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="${DOCS_PATH}/favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_PATH}/swagger-ui-bundle.js" charset="utf-8"></script>
<script src="${DOCS_PATH}/swagger-ui-init.js" charset="utf-8"></script>
</body>
</html>
`;

/**
 * Swagger UI's start-up script (inline scripts would need a looser Content-Security-Policy).
 * `validatorUrl: null`: Swagger UI otherwise sends the document to validator.swagger.io for a badge.
 */
const INIT_JS = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_PATH)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
};
`;

/** The files the page loads, from swagger-ui-dist (a dependency of @nestjs/swagger). Nothing else is served. */
const DIST_FILES = new Map<string, string>([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'application/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
  ['favicon-16x16.png', 'image/png'],
]);

function distDirectory(): string {
  // Resolved from @nestjs/swagger's own location: swagger-ui-dist is its dependency, not ours.
  const fromSwagger = createRequire(require.resolve('@nestjs/swagger'));
  return dirname(fromSwagger.resolve('swagger-ui-dist/package.json'));
}

function asset(body: Buffer, type: string): Asset {
  return { body, type, etag: `"${createHash('sha1').update(body).digest('hex')}"` };
}

const cache = new Map<string, Promise<Asset>>();

/** One of the page's assets by file name, read once; undefined for any other name. */
export function swaggerUiAsset(name: string): Promise<Asset> | undefined {
  const cached = cache.get(name);
  if (cached) return cached;
  let loading: Promise<Asset>;
  if (name === 'swagger-ui-init.js') {
    loading = Promise.resolve(asset(Buffer.from(INIT_JS), 'application/javascript; charset=utf-8'));
  } else {
    const type = DIST_FILES.get(name);
    if (!type) return undefined;
    loading = readFile(join(distDirectory(), name)).then((body) => asset(body, type));
    // A failed read is not remembered: the next request tries again.
    loading.catch(() => cache.delete(name));
  }
  cache.set(name, loading);
  return loading;
}
