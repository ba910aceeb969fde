import type { FastifyCorsOptions } from '@fastify/cors';

/**
 * CORS for the browser apps listed in `allow_origins`, with Tiled's settings (Starlette's CORSMiddleware
 * with credentials, every method, every requested header, a 600 s preflight cache). `*` allows any
 * origin, echoed back rather than sent as `*`, since browsers refuse `*` on credentialed requests.
 * An origin not listed gets no CORS headers at all, so the browser blocks the response.
 */
export function corsOptions(allowOrigins: readonly string[]): FastifyCorsOptions {
  const anyOrigin = allowOrigins.includes('*');
  const listed = new Set(allowOrigins);
  return {
    origin: (origin, callback) => callback(null, origin !== undefined && (anyOrigin || listed.has(origin))),
    credentials: true,
    methods: ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'],
    maxAge: 600,
    // Scripts may read these response headers; the others a browser hides from cross-origin callers.
    exposedHeaders: ['etag', 'x-tiled-request-id', 'x-tiled-root', 'server-timing', 'www-authenticate', 'retry-after'],
  };
}
