import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AUTHENTICATED_ONLY, IS_PUBLIC, Scopes } from '../../auth/auth.decorators';

/**
 * Who may call a route, as its decorators declare it. `undeclared` routes are closed by the guard at
 * runtime but are a bug; `unguarded` routes were added to Fastify outside Nest, so the global guard
 * never sees them at all.
 */
export type RouteAccess = 'public' | 'authenticated' | 'scopes' | 'undeclared' | 'unguarded';

export interface RouteEntry {
  method: string;
  /** As Fastify matches it (`*` wildcards, `:name` parameters), without a trailing slash. */
  path: string;
  access: RouteAccess;
  /** Every listed scope is required; empty unless access is `scopes`. */
  scopes: string[];
  /** `Controller.method`, or `fastify` for routes added outside Nest. */
  source: string;
}

export interface CollectedRoute {
  method: string;
  url: string;
}

/**
 * Every route Fastify serves, read back from its router after `app.init()` (so routes registered
 * anywhere, at any time before that, are included). `printRoutes` is Fastify's only public listing:
 * a radix tree, one node per line, whose segments concatenate into the full path.
 */
export async function fastifyRoutes(app: NestFastifyApplication): Promise<CollectedRoute[]> {
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.ready();
  return parsePrintedRoutes(fastify.printRoutes());
}

export function parsePrintedRoutes(printed: string): CollectedRoute[] {
  const routes: CollectedRoute[] = [];
  const prefixes: string[] = [];
  for (const line of printed.split('\n')) {
    const branch = line.indexOf('── ');
    if (branch < 0) continue;
    const depth = Math.round((branch - 1) / 4);
    let text = line.slice(branch + 3);
    const methods = /^(.*) \(([A-Z, ]+)\)$/.exec(text);
    if (methods) text = methods[1];
    prefixes.length = depth;
    const path = (depth > 0 ? prefixes[depth - 1] : '') + text;
    prefixes[depth] = path;
    for (const method of methods ? methods[2].split(', ') : []) routes.push({ method, url: path });
  }
  return routes;
}

/** `/a/b/` and `/a/b` are one route here (ignoreTrailingSlash); the root stays `/`. */
export function normalisePath(path: string): string {
  const joined = `/${path}`.replace(/\/+/g, '/');
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

function joinPaths(prefix: string, path: string): string {
  return normalisePath(`${prefix}/${path}`);
}

/** A route with the controller method that answers it (for readers of its other metadata, e.g. the OpenAPI document). */
export interface RouteHandler {
  entry: RouteEntry;
  controller: new (...args: unknown[]) => unknown;
  methodName: string;
}

/** Every controller handler Nest knows, with what its decorators declare. */
export function nestRoutes(app: NestFastifyApplication): RouteEntry[] {
  return routeHandlers(app).map((route) => route.entry);
}

/** `nestRoutes`, with each route's controller and method. */
export function routeHandlers(app: NestFastifyApplication): RouteHandler[] {
  const reflector = app.get(Reflector);
  const scanner = new MetadataScanner();
  const entries: RouteHandler[] = [];
  const seen = new Set<unknown>();
  for (const moduleRef of app.get(ModulesContainer).values()) {
    for (const wrapper of moduleRef.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
      if (!controller || seen.has(controller)) continue;
      seen.add(controller);
      const prefixes = asList(Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined);
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as (...args: unknown[]) => unknown;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (paths === undefined || requestMethod === undefined) continue;
        const targets = [handler, controller];
        const required = reflector.getAllAndOverride(Scopes, targets);
        const access: RouteAccess = reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)
          ? 'public'
          : required
            ? 'scopes'
            : reflector.getAllAndOverride<boolean>(AUTHENTICATED_ONLY, targets)
              ? 'authenticated'
              : 'undeclared';
        for (const method of methodNames(requestMethod)) {
          for (const prefix of prefixes) {
            for (const path of asList(paths)) {
              entries.push({
                entry: {
                  method,
                  path: joinPaths(prefix, path),
                  access,
                  scopes: access === 'scopes' ? [...(required ?? [])] : [],
                  source: `${controller.name}.${name}`,
                },
                controller,
                methodName: name,
              });
            }
          }
        }
      }
    }
  }
  return entries;
}

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [''];
  return Array.isArray(value) ? value : [value];
}

function methodNames(method: RequestMethod): string[] {
  if (method === RequestMethod.ALL) return ['ALL'];
  return [RequestMethod[method]];
}

/**
 * The route table: Nest's handlers with their declarations, plus every route Fastify registered that
 * no Nest handler accounts for (marked `unguarded`). HEAD twins of GET routes are left out.
 */
export function routeTable(nest: RouteEntry[], fastify: CollectedRoute[]): RouteEntry[] {
  const key = (method: string, path: string): string => `${method} ${path}`;
  const byKey = new Map<string, RouteEntry>();
  for (const entry of nest) byKey.set(key(entry.method, entry.path), entry);
  const gets = new Set(fastify.filter((r) => r.method === 'GET').map((r) => normalisePath(r.url)));
  for (const route of fastify) {
    const path = normalisePath(route.url);
    if (route.method === 'HEAD' && gets.has(path)) continue;
    const known = byKey.has(key(route.method, path)) || byKey.has(key('ALL', path));
    if (!known) byKey.set(key(route.method, path), { method: route.method, path, access: 'unguarded', scopes: [], source: 'fastify' });
  }
  return [...byKey.values()].sort((a, b) => (a.path === b.path ? a.method.localeCompare(b.method) : a.path < b.path ? -1 : 1));
}

/** One line per route, the form the snapshot and reviewers read: `GET /api/v1/metadata/* → read:metadata`. */
export function formatRoute(entry: RouteEntry): string {
  const who =
    entry.access === 'scopes'
      ? entry.scopes.length > 0
        ? entry.scopes.join(', ')
        : 'authenticated (empty @Scopes)'
      : entry.access === 'undeclared'
        ? `UNDECLARED (${entry.source} has no @Public, @Authenticated or @Scopes)`
        : entry.access === 'unguarded'
          ? 'UNGUARDED (registered on Fastify outside Nest; the guard never runs)'
          : entry.access;
  return `${entry.method} ${entry.path} → ${who}`;
}
