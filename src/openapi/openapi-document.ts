import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AboutProvidersSource } from '../about/about.providers';
import { TILED_COMPAT_VERSION } from '../about/about.constants';
import { SCOPES } from '../auth/scopes';
import { API_KEY_COOKIE } from '../common/http/http-hooks';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RESPONSE_MEDIA_TYPES, RESPONSE_SCHEMA } from '../common/http/responds';
import { RouteEntry, RouteHandler, routeHandlers } from '../common/meta/route-table';
import { DECLARED_BODY, DECLARED_QUERY, DeclaredBody, DescribedDto, JsonSchema } from '../common/validation/openapi-schema';

/** The parts of an OpenAPI 3.1 document this module reads or writes; the rest passes through untouched. */
export interface OpenApiOperation {
  operationId?: string;
  description?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown; description?: string }[];
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
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

/**
 * Request and response schemas, from what each route declares: the `openApi` schema of the DTO class
 * its `@Body()`, `@Query()` or `@Param()` parameter is typed with (the same class the validation pipe
 * parses with), a `@DeclaresBody(...)` or `@DeclaresQuery(...)` for input checked elsewhere, and the `schema` of its
 * `@RespondsWith…()`. @nestjs/swagger sees the DTO classes but not their schemas (they are not built
 * from class-validator decorators), so this fills in what it leaves empty.
 */
export function applyRouteContracts(document: OpenApiDocument, routes: RouteHandler[]): void {
  const components = new Components(document);
  const byOperation = new Map<string, RouteHandler>();
  for (const route of routes) byOperation.set(`${route.entry.method} ${openApiPath(route.entry.path)}`, route);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const route = byOperation.get(`${method.toUpperCase()} ${path}`);
      if (route) describeOperation(operation, route, components);
    }
  }
  components.dropUnreferenced();
}

type RouteArgs = Record<string, { index: number; data?: unknown }>;

function describeOperation(operation: OpenApiOperation, route: RouteHandler, components: Components): void {
  const prototype = route.controller.prototype as Record<string, unknown>;
  const handler = prototype[route.methodName] as object;
  const types = (Reflect.getMetadata('design:paramtypes', prototype, route.methodName) ?? []) as (DescribedDto | undefined)[];
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, route.controller, route.methodName) ?? {}) as RouteArgs;
  for (const [key, arg] of Object.entries(args)) {
    const schema = types[arg.index]?.openApi;
    // `@Body('field')` and the like bind one field, not the DTO: only whole-input parameters carry a DTO.
    if (!schema || arg.data !== undefined) continue;
    const kind = Number(key.split(':')[0]);
    if (kind === RouteParamtypes.BODY) setRequestBody(operation, types[arg.index]!, 'application/json', components);
    else if (kind === RouteParamtypes.QUERY) setParameters(operation, 'query', schema);
    else if (kind === RouteParamtypes.PARAM) setParameters(operation, 'path', schema);
  }
  const declared = Reflect.getMetadata(DECLARED_BODY, handler) as DeclaredBody | undefined;
  if (declared?.dto.openApi) setRequestBody(operation, declared.dto, declared.contentType, components);
  const declaredQuery = Reflect.getMetadata(DECLARED_QUERY, handler) as DescribedDto | undefined;
  if (declaredQuery?.openApi) setParameters(operation, 'query', declaredQuery.openApi);
  const response = Reflect.getMetadata(RESPONSE_SCHEMA, handler) as JsonSchema | undefined;
  if (response) {
    const responses = (operation.responses ?? {}) as Record<string, { description?: string }>;
    const status = Object.keys(responses).find((code) => code.startsWith('2')) ?? '200';
    const others = (Reflect.getMetadata(RESPONSE_MEDIA_TYPES, handler) ?? []) as readonly string[];
    const content: Record<string, unknown> = { 'application/json': { schema: components.ref(response) } };
    for (const type of others) if (type !== 'application/json') content[type] = { schema: { type: 'string', format: 'binary' } };
    operation.responses = { ...responses, [status]: { description: responses[status]?.description || 'Successful Response', content } };
  }
}

function setRequestBody(operation: OpenApiOperation, dto: DescribedDto, contentType: string, components: Components): void {
  operation.requestBody = { required: !dto.bodyOptional, content: { [contentType]: { schema: components.ref(dto.openApi) } } };
}

/** One parameter per property of the DTO's object schema, replacing what @nestjs/swagger guessed for the same name. */
function setParameters(operation: OpenApiOperation, where: 'query' | 'path', schema: JsonSchema): void {
  const required = new Set((schema.required ?? []) as string[]);
  const properties = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>);
  const names = new Set(properties.map(([name]) => name));
  const others = (operation.parameters ?? []).filter((p) => p.in !== where || !names.has(p.name));
  const declared = properties.map(([name, { description, ...property }]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
    ...(typeof description === 'string' ? { description } : {}),
  }));
  operation.parameters = [...others, ...declared];
}

/** `components.schemas`: every schema with a `title` becomes a named component, referenced wherever it appears. */
class Components {
  private readonly schemas: Record<string, unknown>;

  constructor(private readonly document: OpenApiDocument) {
    document.components = { ...document.components, schemas: { ...((document.components?.schemas as Record<string, unknown> | undefined) ?? {}) } };
    this.schemas = document.components.schemas as Record<string, unknown>;
  }

  /** The schema with each titled (sub)schema replaced by a `$ref`; two different schemas with one title are a programming error. */
  ref(schema: unknown): unknown {
    if (Array.isArray(schema)) return schema.map((item) => this.ref(item));
    if (schema === null || typeof schema !== 'object') return schema;
    const inlined = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, key === 'example' || key === 'default' || key === 'enum' ? value : this.ref(value)]));
    const title = (schema as JsonSchema).title;
    if (typeof title !== 'string') return inlined;
    const existing = this.schemas[title];
    if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(inlined)) throw new Error(`Two different OpenAPI schemas are titled ${title}`);
    this.schemas[title] = inlined;
    return { $ref: `#/components/schemas/${title}` };
  }

  /** @nestjs/swagger's empty stand-ins for the DTO classes (`CreateApiKeyDto`), now that the operations point at the real schemas. */
  dropUnreferenced(): void {
    const used = JSON.stringify(this.document.paths) + JSON.stringify(this.schemas);
    for (const name of Object.keys(this.schemas)) {
      if (!used.includes(`"#/components/schemas/${name}"`)) delete this.schemas[name];
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
  const routes = routeHandlers(app);
  applyRouteContracts(document, routes);
  applyRouteAccess(document, routes.map((route) => route.entry));
  return document;
}
