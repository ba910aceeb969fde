import { JsonSchema, nullable, stringList } from '../../common/validation/openapi-schema';
import { EXPLAIN_LAYERS } from '../access/explain.service';

/**
 * The catalog's request bodies and JSON answers as JSON Schemas, for the OpenAPI document. Titles are
 * Tiled 0.2.16's component names (its pydantic generics included), so a client generated from either
 * document finds the same types; each titled schema is defined once here, because one title may name
 * only one schema.
 */

const object: JsonSchema = { type: 'object', additionalProperties: true };
const nullableObject = nullable(object);

/**
 * Tiled 0.2.16's StructureFamily enum. It has no `composite`: a composite node is a container with the
 * `composite` spec (src/catalog/writable/spec-validation.ts), so `"structure_family": "composite"` is refused.
 */
export const STRUCTURE_FAMILIES = ['array', 'awkward', 'bytes', 'container', 'ragged', 'sparse', 'table'] as const;
export const STRUCTURE_FAMILY: JsonSchema = { title: 'StructureFamily', type: 'string', enum: [...STRUCTURE_FAMILIES] };

const SPEC: JsonSchema = {
  title: 'Spec',
  type: 'object',
  properties: { name: { type: 'string', maxLength: 255 }, version: nullable({ type: 'string', maxLength: 255 }) },
  required: ['name'],
};
const SPECS: JsonSchema = { type: 'array', items: SPEC, maxItems: 20 };

const ERROR: JsonSchema = { title: 'Error', type: 'object', properties: { code: { type: 'integer' }, message: { type: 'string' } }, required: ['code', 'message'] };

const ASSET: JsonSchema = {
  title: 'Asset',
  type: 'object',
  properties: {
    data_uri: { type: 'string' },
    is_directory: { type: 'boolean' },
    size: nullable({ type: 'integer' }),
    parameter: nullable({ type: 'string' }),
    num: nullable({ type: 'integer' }),
    id: nullable({ type: 'integer' }),
  },
  required: ['data_uri', 'is_directory'],
};

export const DATA_SOURCE: JsonSchema = {
  title: 'DataSource',
  type: 'object',
  properties: {
    id: nullable({ type: 'integer' }),
    structure_family: STRUCTURE_FAMILY,
    structure: { description: "The family's structure (ArrayStructure, TableStructure, …)", anyOf: [object, { type: 'null' }] },
    mimetype: nullable({ type: 'string' }),
    parameters: { ...object, default: {} },
    properties: { ...object, default: {} },
    assets: { type: 'array', items: ASSET, default: [] },
    management: { title: 'Management', type: 'string', enum: ['external', 'immutable', 'locked', 'writable'], default: 'writable' },
  },
  required: ['structure_family', 'structure'],
};

const NODE_ATTRIBUTES: JsonSchema = {
  title: 'NodeAttributes',
  type: 'object',
  properties: {
    ancestors: stringList,
    structure_family: nullable(STRUCTURE_FAMILY),
    specs: nullable(SPECS),
    metadata: nullableObject,
    structure: { description: 'ArrayStructure, TableStructure, NodeStructure (`{contents, count}`), …', anyOf: [object, { type: 'null' }] },
    access_blob: nullableObject,
    sorting: nullable({
      type: 'array',
      items: { title: 'SortingItem', type: 'object', properties: { key: { type: 'string' }, direction: { type: 'integer', enum: [1, -1] } }, required: ['key', 'direction'] },
    }),
    data_sources: nullable({ type: 'array', items: DATA_SOURCE }),
  },
  required: ['ancestors'],
};

const RESOURCE: JsonSchema = {
  title: 'Resource_NodeAttributes_dict_dict_',
  type: 'object',
  properties: {
    id: { type: 'string', description: "The node's key ('' for the root)" },
    attributes: NODE_ATTRIBUTES,
    links: { ...nullableObject, description: 'self, and by family: search/full (container), full/block (array), full/partition (table)' },
    meta: nullableObject,
  },
  required: ['id', 'attributes'],
};

const PAGINATION_LINKS: JsonSchema = {
  title: 'PaginationLinks',
  type: 'object',
  description: 'Tiled also sends prev and last; this server sends self, first and next (null on the last page)',
  properties: { self: { type: 'string' }, first: { type: 'string' }, next: nullable({ type: 'string' }) },
  required: ['self', 'first', 'next'],
};

/** The envelope of Tiled's documents: `{data, error, links, meta}`. */
function envelope(title: string, data: JsonSchema, links: JsonSchema = nullableObject): JsonSchema {
  return { title, type: 'object', properties: { data: nullable(data), error: nullable(ERROR), links, meta: nullableObject }, required: ['data'] };
}

/** `GET /metadata/{path}`. */
export const METADATA_RESPONSE = envelope('Response_Resource_NodeAttributes__dict__dict__dict_dict_', RESOURCE);

/** `GET /search/{path}`: a page of children; `meta.count` counts every match. */
export const SEARCH_RESPONSE = envelope('Response_List_Resource_NodeAttributes__dict__dict___PaginationLinks_dict_', { type: 'array', items: RESOURCE }, nullable(PAGINATION_LINKS));

const DISTINCT_VALUES: JsonSchema = {
  type: 'array',
  items: { title: 'DistinctValueInfo', type: 'object', properties: { value: {}, count: nullable({ type: 'integer' }) } },
};

/** `GET /distinct/{path}`. */
export const DISTINCT_RESPONSE: JsonSchema = {
  title: 'GetDistinctResponse',
  type: 'object',
  properties: {
    metadata: nullable({ type: 'object', additionalProperties: DISTINCT_VALUES }),
    structure_families: nullable(DISTINCT_VALUES),
    specs: nullable(DISTINCT_VALUES),
  },
};

/** `GET /revisions/{path}`: a page of earlier metadata and specs, newest last. */
export const REVISIONS_RESPONSE = envelope(
  'Response_List_Revision__PaginationLinks_dict_',
  {
    type: 'array',
    items: {
      title: 'Revision',
      type: 'object',
      properties: {
        revision_number: { type: 'integer' },
        attributes: { type: 'object', properties: { metadata: object, specs: SPECS, time_updated: { type: 'string', format: 'date-time' } } },
      },
      required: ['revision_number', 'attributes'],
    },
  },
  nullable(PAGINATION_LINKS),
);

const NODE_LINKS: JsonSchema = { ...object, description: 'self, and by family: search/full (container), full/block (array), full/partition (table)' };

function writeResponse(title: string, required: readonly string[]): JsonSchema {
  return {
    title,
    type: 'object',
    properties: { id: { type: 'string' }, links: NODE_LINKS, metadata: nullableObject, data_sources: nullable({ type: 'array', items: DATA_SOURCE }), access_blob: nullableObject },
    required,
  };
}

/** `POST /metadata/{path}` and `POST /register/{path}`: the new node. */
export const POST_METADATA_RESPONSE = writeResponse('PostMetadataResponse', ['id', 'links']);
export const PUT_METADATA_RESPONSE = writeResponse('PutMetadataResponse', ['id', 'links']);
export const PATCH_METADATA_RESPONSE = writeResponse('PatchMetadataResponse', ['id', 'links']);

/** Body of `POST /metadata/{path}` and `POST /register/{path}`. */
export const POST_METADATA_REQUEST: JsonSchema = {
  title: 'PostMetadataRequest',
  type: 'object',
  properties: {
    id: { ...nullable({ type: 'string', maxLength: 255 }), description: "The new node's key; a random UUID when absent" },
    structure_family: STRUCTURE_FAMILY,
    metadata: { ...object, default: {} },
    data_sources: { type: 'array', items: DATA_SOURCE, default: [] },
    specs: { ...SPECS, default: [] },
    access_blob: { ...nullableObject, default: {} },
  },
  required: ['structure_family'],
};

/** Body of `PUT /metadata/{path}`: what is given replaces the node's own; what is absent stays. */
export const PUT_METADATA_REQUEST: JsonSchema = {
  title: 'PutMetadataRequest',
  type: 'object',
  properties: { metadata: nullableObject, specs: nullable(SPECS), access_blob: nullableObject },
};

const JSON_PATCH: JsonSchema = { type: 'array', items: { type: 'object', properties: { op: { type: 'string' }, path: { type: 'string' }, value: {}, from: { type: 'string' } }, required: ['op', 'path'] } };

/** Body of `PATCH /metadata/{path}`: a JSON Patch or a JSON Merge Patch, as `content-type` says. */
export const PATCH_METADATA_REQUEST: JsonSchema = {
  title: 'PatchMetadataRequest',
  type: 'object',
  properties: {
    'content-type': { type: 'string', enum: ['application/json-patch+json', 'application/merge-patch+json'] },
    metadata: { anyOf: [JSON_PATCH, object, { type: 'null' }] },
    specs: { anyOf: [SPECS, JSON_PATCH, { type: 'null' }] },
    access_blob: { anyOf: [JSON_PATCH, object, { type: 'null' }] },
  },
  required: ['content-type'],
};

/** Body of `PUT /data_source/{path}`. */
export const PUT_DATA_SOURCE_REQUEST: JsonSchema = { title: 'PutDataSourceRequest', type: 'object', properties: { data_source: DATA_SOURCE }, required: ['data_source'] };

/** Body of the POST forms of /table/… (`Column`) and /container/full (`Field`): which columns or children. */
export const COLUMNS_REQUEST: JsonSchema = { ...nullable({ type: 'array', items: { type: 'string' }, minItems: 1 }), description: 'Column names; null or absent: all' };
export const FIELDS_REQUEST: JsonSchema = { ...nullable({ type: 'array', items: { type: 'string' }, minItems: 1 }), description: 'Child keys; null or absent: all' };

/** `GET /asset/manifest/{path}`. */
export const ASSET_MANIFEST_RESPONSE: JsonSchema = {
  title: 'AssetManifest',
  type: 'object',
  properties: { manifest: { ...stringList, description: 'Files inside the directory asset, relative to it' } },
  required: ['manifest'],
};

/** What the data routes answer, besides JSON, as negotiated from `?format=` or Accept. */
export const BINARY: JsonSchema = { type: 'string', format: 'binary' };

const EXPLAIN_LAYER: JsonSchema = { type: 'string', enum: [...EXPLAIN_LAYERS] };

/** `GET /auth/explain` (this server's own route). */
export const EXPLANATION_RESPONSE: JsonSchema = {
  title: 'Explanation',
  type: 'object',
  properties: {
    path: { type: 'string' },
    scope: { type: 'string' },
    allowed: { type: 'boolean' },
    decided_by: EXPLAIN_LAYER,
    reason: { type: 'string' },
    layers: {
      type: 'array',
      items: { title: 'ExplainLayer', type: 'object', properties: { layer: EXPLAIN_LAYER, outcome: { type: 'string', enum: ['allowed', 'refused'] }, detail: { type: 'string' } }, required: ['layer', 'outcome', 'detail'] },
    },
  },
  required: ['path', 'scope', 'allowed', 'decided_by', 'reason', 'layers'],
};
