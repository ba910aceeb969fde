import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Scopes } from '../auth/auth.decorators';
import { NotFoundError } from '../common/errors/tiled-http.error';
import { toJson } from '../common/http/wire';
import { CatalogService, Located } from '../catalog/catalog.service';
import type { ArrayNode, TreeNode } from '../catalog/tree/tree.types';
import { denseArrayOf } from '../catalog/data/sparse-data';
import { encodeZarrChunk } from './zarr-chunks';
import { zarrJsonArray, zarrJsonGroup, zarrayDocument } from './zarr-documents';

/** Every Zarr route needs both scopes on its node: a reader cannot use chunks without the metadata that describes them. */
const ZARR_SCOPES = ['read:metadata', 'read:data'] as const;
const V2_CHUNK_KEY = /^(?:\d+\.)*\d+$/;
const DIGITS = /^\d+$/;

function segmentsOf(request: FastifyRequest): string[] {
  return ((request.params as { '*'?: string })['*'] ?? '').split('/').filter(Boolean);
}

/** The request's own URL without query or trailing slash: listings name children under it, as Tiled does. */
function selfUrl(request: FastifyRequest): string {
  const proto = request.protocol ?? 'http';
  const host = request.headers.host ?? 'localhost';
  return `${proto}://${host}${request.url.split('?')[0]}`.replace(/\/+$/, '');
}

/** The node as a Zarr array, if it is one: a sparse array is served dense, as Tiled's Zarr routes serve it. */
function zarrArray(node: TreeNode): ArrayNode | null {
  return node.family === 'array' ? node : node.family === 'sparse' ? denseArrayOf(node) : null;
}

function sendJson(reply: FastifyReply, payload: unknown): FastifyReply {
  return reply.header('content-type', 'application/json').send(Buffer.from(toJson(payload)));
}

/**
 * Any array of the catalog as a Zarr store, at the routes of Tiled 0.2.16 (tiled/server/zarr.py):
 * `/zarr/v2/{path}` (`.zgroup`, `.zattrs`, `.zarray`, chunk keys `i.j`) and `/zarr/v3/{path}`
 * (`zarr.json`, chunk keys `c/i/j`). Containers and tables are groups (a table's columns its arrays).
 * Every route needs both scopes: a Zarr reader cannot use chunks without the metadata that describes them.
 */
@Controller('zarr')
export class ZarrHttpController {
  constructor(private readonly catalog: CatalogService) {}

  @Scopes(['read:metadata', 'read:data'])
  @Get(['v2', 'v2/*'])
  async v2(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const segments = segmentsOf(request);
    const last = segments[segments.length - 1] ?? '';
    const parent = segments.slice(0, -1);
    if (last === '.zattrs') {
      const { node } = await this.catalog.locateFor(request, ZARR_SCOPES, parent.join('/'));
      const attributes = node.metadata?.attributes;
      return sendJson(reply, attributes && typeof attributes === 'object' ? attributes : {});
    }
    if (last === '.zgroup') {
      this.catalog.requireFamily(await this.catalog.locateFor(request, ZARR_SCOPES, parent.join('/')), ['table', 'container']);
      return sendJson(reply, { zarr_format: 2 });
    }
    if (last === '.zarray') {
      const located = await this.catalog.locateFor(request, ZARR_SCOPES, parent.join('/'));
      this.catalog.requireFamily(located, ['array', 'sparse']);
      return sendJson(reply, zarrayDocument(zarrArray(located.node)!));
    }
    if (V2_CHUNK_KEY.test(last)) {
      const array = await this.arrayAt(request, parent);
      if (array) return this.sendChunk(reply, array, last.split('.').map(Number));
    }
    const located = await this.catalog.locateFor(request, ZARR_SCOPES, segments.join('/'));
    if (zarrArray(located.node)) return sendJson(reply, {});
    return sendJson(reply, await this.listing(request, located));
  }

  @Scopes(['read:metadata', 'read:data'])
  @Get(['v3', 'v3/*'])
  async v3(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const segments = segmentsOf(request);
    if (segments[segments.length - 1] === 'zarr.json') return sendJson(reply, await this.zarrJson(await this.catalog.locateFor(request, ZARR_SCOPES, segments.slice(0, -1).join('/'))));
    const c = segments.lastIndexOf('c');
    if (c >= 0 && segments.slice(c + 1).every((s) => DIGITS.test(s))) {
      const array = await this.arrayAt(request, segments.slice(0, c));
      if (array) return this.sendChunk(reply, array, segments.slice(c + 1).map(Number));
    }
    const located = await this.catalog.locateFor(request, ZARR_SCOPES, segments.join('/'));
    if (zarrArray(located.node)) return sendJson(reply, await this.zarrJson(located));
    return sendJson(reply, await this.listing(request, located));
  }

  private async zarrJson(located: Located): Promise<Record<string, unknown>> {
    const { node } = located;
    const array = zarrArray(node);
    return array ? zarrJsonArray(array) : zarrJsonGroup(node.metadata);
  }

  /** The array at `segments`, or null when there is none (the key is then a child's name). */
  private async arrayAt(request: FastifyRequest, segments: readonly string[]): Promise<ArrayNode | null> {
    try {
      const { node } = await this.catalog.locateFor(request, ZARR_SCOPES, segments.join('/'));
      return zarrArray(node);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  private async sendChunk(reply: FastifyReply, node: ArrayNode, index: number[]): Promise<FastifyReply> {
    const body = await encodeZarrChunk(node, index);
    return reply.header('content-type', 'application/octet-stream').send(body);
  }

  /** A group's members: only the children the caller may see (a hidden one is not even named). */
  private async listing(request: FastifyRequest, located: Located): Promise<string[]> {
    const base = selfUrl(request);
    const { node } = located;
    const keys = node.family === 'table' ? node.columns.map((c) => c.name) : node.family === 'container' ? (await this.catalog.visibleChildren(located)).map((e) => e.key) : [];
    return keys.map((key) => `${base}/${encodeURIComponent(key)}`);
  }
}
