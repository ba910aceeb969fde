import { Controller, Get, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Scopes } from '../auth/auth.decorators';
import { NotFoundError } from '../common/errors/tiled-http.error';
import { BodyResponse, RespondsWithBody, ResponseSchema } from '../common/http/responds';
import { JSON_TYPE, toJson } from '../common/http/wire';
import type { JsonSchema } from '../common/validation/openapi-schema';
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

/** JSON whatever the Accept header, without an ETag, as Tiled's Zarr routes answer. */
function json(payload: unknown): BodyResponse {
  return { body: Buffer.from(toJson(payload)), type: JSON_TYPE };
}

const CHUNK_TYPE = 'application/octet-stream';

const ZARR_ANSWER: JsonSchema = {
  description: 'A metadata document (.zarray, .zattrs, .zgroup, zarr.json), or a group listing (the URLs of its members); a chunk key answers the chunk as application/octet-stream',
  anyOf: [{ type: 'object', additionalProperties: true }, { type: 'array', items: { type: 'string' } }],
};

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
  @RespondsWithBody()
  @ResponseSchema(ZARR_ANSWER, [CHUNK_TYPE])
  async v2(@Req() request: FastifyRequest): Promise<BodyResponse> {
    const segments = segmentsOf(request);
    const last = segments[segments.length - 1] ?? '';
    const parent = segments.slice(0, -1);
    if (last === '.zattrs') {
      const { node } = await this.catalog.locateFor(request, ZARR_SCOPES, parent.join('/'));
      const attributes = node.metadata?.attributes;
      return json(attributes && typeof attributes === 'object' ? attributes : {});
    }
    if (last === '.zgroup') {
      this.catalog.requireFamily(await this.catalog.locateFor(request, ZARR_SCOPES, parent.join('/')), ['table', 'container']);
      return json({ zarr_format: 2 });
    }
    if (last === '.zarray') {
      const located = await this.catalog.locateFor(request, ZARR_SCOPES, parent.join('/'));
      this.catalog.requireFamily(located, ['array', 'sparse']);
      return json(zarrayDocument(zarrArray(located.node)!));
    }
    if (V2_CHUNK_KEY.test(last)) {
      const array = await this.arrayAt(request, parent);
      if (array) return this.chunk(array, last.split('.').map(Number));
    }
    const located = await this.catalog.locateFor(request, ZARR_SCOPES, segments.join('/'));
    if (zarrArray(located.node)) return json({});
    return json(await this.listing(request, located));
  }

  @Scopes(['read:metadata', 'read:data'])
  @Get(['v3', 'v3/*'])
  @RespondsWithBody()
  @ResponseSchema(ZARR_ANSWER, [CHUNK_TYPE])
  async v3(@Req() request: FastifyRequest): Promise<BodyResponse> {
    const segments = segmentsOf(request);
    if (segments[segments.length - 1] === 'zarr.json') return json(await this.zarrJson(await this.catalog.locateFor(request, ZARR_SCOPES, segments.slice(0, -1).join('/'))));
    const c = segments.lastIndexOf('c');
    if (c >= 0 && segments.slice(c + 1).every((s) => DIGITS.test(s))) {
      const array = await this.arrayAt(request, segments.slice(0, c));
      if (array) return this.chunk(array, segments.slice(c + 1).map(Number));
    }
    const located = await this.catalog.locateFor(request, ZARR_SCOPES, segments.join('/'));
    if (zarrArray(located.node)) return json(await this.zarrJson(located));
    return json(await this.listing(request, located));
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

  private async chunk(node: ArrayNode, index: number[]): Promise<BodyResponse> {
    return { body: await encodeZarrChunk(node, index), type: CHUNK_TYPE };
  }

  /** A group's members: only the children the caller may see (a hidden one is not even named). */
  private async listing(request: FastifyRequest, located: Located): Promise<string[]> {
    const base = selfUrl(request);
    const { node } = located;
    const keys = node.family === 'table' ? node.columns.map((c) => c.name) : node.family === 'container' ? (await this.catalog.visibleChildren(located)).map((e) => e.key) : [];
    return keys.map((key) => `${base}/${encodeURIComponent(key)}`);
  }
}
