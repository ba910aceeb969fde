import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AboutProvidersSource } from '../about/about.providers';
import { TILED_COMPAT_VERSION } from '../about/about.constants';
import { SCOPES } from '../auth/scopes';
import { API_KEY_COOKIE } from '../common/http/http-hooks';
import { nestRoutes, RouteEntry } from '../common/meta/route-table';

/** The parts of an OpenAPI 3.1 document this module reads or writes; the rest passes through untouched. */
export interface OpenApiOperation {
  operationId?: string;
  description?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown; description?: string }[];
  security?: Record<string, string[]>[];
  [key: string]: unknown;
}

export interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { securitySchemes?: Record<string, unknown>; [key: string]: unknown };
  [key: string]: unknown;
}

/** An OpenAPI path template for a route as Fastify matches it: `:uuid` → `{uuid}`, a trailing `*` → `{path}`. */
export function openApiPath(path: string): string {
  return path.replace(/\/\*$/, '/{path}').replace(/:([A-Za-z_]\w*)/g, '{$1}');
}

/**
 * The security schemes: Tiled's names, so a client written against Tiled's document finds the same ones.
 * The OAuth2 password flow exists only when a provider takes a password; its token route is the first one's,
 * as Tiled does.
 */
export function securitySchemes(tokenUrl: string | undefined): Record<string, unknown> {
  const apiKey = {
    APIKeyQuery: { type: 'apiKey', in: 'query', name: 'api_key' },
    Apikey: { type: 'apiKey', in: 'header', name: 'Authorization', description: "Prefix value with 'Apikey ' as in, 'Apikey SECRET'" },
    APIKeyCookie: { type: 'apiKey', in: 'cookie', name: API_KEY_COOKIE },
  };
  if (!tokenUrl) return apiKey;
  return {
    OAuth2PasswordBearer: {
      type: 'oauth2',
      flows: { password: { tokenUrl, refreshUrl: '/api/v1/auth/session/refresh', scopes: { ...SCOPES } } },
    },
    ...apiKey,
  };
}

/**
 * Who may call each operation, written from the same route metadata the authentication guard enforces
 * (`@Public`, `@Authenticated`, `@Scopes`), so the document cannot disagree with the server. Every
 * path-template parameter is declared (wildcard routes carry theirs only in the template).
 */
export function applyRouteAccess(document: OpenApiDocument, routes: RouteEntry[]): void {
  const byOperation = new Map<string, RouteEntry>();
  for (const route of routes) byOperation.set(`${route.method} ${openApiPath(route.path)}`, route);
  const schemes = Object.keys(document.components?.securitySchemes ?? {});
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const route = byOperation.get(`${method.toUpperCase()} ${path}`);
      if (!route) throw new Error(`OpenAPI operation ${method.toUpperCase()} ${path} matches no route of the route table`);
      declarePathParameters(path, operation);
      if (route.access === 'public') {
        operation.security = [];
        continue;
      }
      const scopes = route.access === 'scopes' ? route.scopes : [];
      operation.security = schemes.map((scheme) => ({ [scheme]: [...scopes] }));
      const needs = scopes.length ? `Requires the scopes ${scopes.map((s) => `\`${s}\``).join(', ')}.` : 'Requires credentials (any scope).';
      operation.description = operation.description ? `${operation.description}\n\n${needs}` : needs;
    }
  }
}

function declarePathParameters(path: string, operation: OpenApiOperation): void {
  const declared = new Set((operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name));
  for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
    if (declared.has(name)) continue;
    const description = name === 'path' ? 'Path of a node in the tree, segments separated by "/"' : undefined;
    operation.parameters = [...(operation.parameters ?? []), { name, in: 'path', required: true, schema: { type: 'string' }, ...(description ? { description } : {}) }];
  }
}

/**
 * Build the OpenAPI document of a running app from its controllers with @nestjs/swagger, then write in
 * each operation's security. @nestjs/swagger is imported here, on first use: loading it takes longer
 * than the rest of a cold start's module loading put together.
 */
export async function buildOpenApiDocument(app: NestFastifyApplication, providers: AboutProvidersSource): Promise<OpenApiDocument> {
  const { DocumentBuilder, SwaggerModule } = await import('@nestjs/swagger');
  const passwordProvider = providers.describe('/api/v1', undefined).find((p) => p.mode === 'internal' || p.mode === 'password');
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Tiled')
    .setDescription('Structured data access service')
    .setVersion(TILED_COMPAT_VERSION)
    .build();
  delete config.info.contact;
  config.components = { ...config.components, securitySchemes: securitySchemes(passwordProvider?.links.auth_endpoint) as never };
  const document = SwaggerModule.createDocument(app, config) as unknown as OpenApiDocument;
  applyRouteAccess(document, nestRoutes(app));
  return document;
}
