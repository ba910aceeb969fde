import { isScope, type Scope } from '../../auth/scopes';
import { BadRequestError, UnprocessableError } from '../../common/errors/tiled-http.error';
import type { JsonSchema } from '../../common/validation/openapi-schema';
import { QUERY_FIELDS } from '../query/filters';
import { Query, boolParam, intParam, missing, one } from '../http/query-params';

/**
 * The catalog routes' query parameters, as Tiled 0.2.16 declares them. Parameters whose rules do not
 * depend on the node (`drop_revision`, `recursive`, revisions' pages, `number`, an asset's `id`, explain's
 * `scope`) are request DTOs, parsed by the validation pipe before the handler. The read and data routes'
 * parameters (`fields`, filters, `sort`, `block`, `slice`, `partition`, …) are read from the raw query by
 * the services after the node is found, where Tiled checks them too (a filter that does not parse is a 404
 * on a missing node, not a 400); their routes declare them with `@DeclaresQuery(...)`.
 */
type Declared = { readonly openApi: JsonSchema };

/** `?filename=`: the answer is an attachment with that name (Tiled's Content-Disposition). */
export function attachment(query: Query): Record<string, string> | undefined {
  const filename = query.filename;
  if (typeof filename !== 'string' || filename === '') return undefined;
  return { 'content-disposition': `attachment; filename="${filename.replace(/["\\\r\n]/g, '_')}"` };
}

const flag = (description?: string): JsonSchema => ({ type: 'boolean', default: false, ...(description ? { description } : {}) });
const strings = (description?: string): JsonSchema => ({ type: 'array', items: { type: 'string' }, ...(description ? { description } : {}) });
const INTS = '^[0-9]+(,[0-9]+)*$';

const PAGE: Record<string, JsonSchema> = {
  'page[offset]': { type: 'integer', minimum: 0 },
  'page[cursor]': { type: 'integer', minimum: 0, description: 'Same as page[offset]; not both' },
  'page[limit]': { type: 'integer', minimum: 0, maximum: 300, default: 100 },
};

/** `filter[<query>][condition][<field>]`, one per field of every query type; values are JSON-encoded. */
const FILTERS: Record<string, JsonSchema> = Object.fromEntries(
  [...QUERY_FIELDS].flatMap(([name, fields]) =>
    fields.map((field) => [`filter[${name}][condition][${field}]`, strings('One entry per condition, in order; values are JSON-encoded')]),
  ),
);

const RENDER: Record<string, JsonSchema> = {
  fields: {
    type: 'array',
    items: { title: 'EntryFields', type: 'string', enum: ['metadata', 'structure_family', 'structure', 'count', 'sorting', 'specs', 'data_sources', '', 'access_blob'] },
    description: "Which attributes to include; '' alone: keys and links only",
  },
  select_metadata: { type: 'string', description: 'A JMESPath expression applied to each metadata' },
  max_depth: { type: 'integer', minimum: 0, maximum: 5 },
  omit_links: flag(),
  include_data_sources: flag(),
};

const FORMAT: Record<string, JsonSchema> = {
  format: { type: 'string', description: 'A media type or its alias (csv, json, …); overrides Accept' },
  filename: { type: 'string', description: 'Answer as an attachment with this file name' },
};

const SLICE: Record<string, JsonSchema> = {
  slice: { type: 'string', description: 'NumPy-style slice per dimension, e.g. 0:10,::2' },
  expected_shape: { type: 'string', pattern: `${INTS}|^scalar$`, description: 'Refuse with 409 unless the array has this shape' },
};

const object = (properties: Record<string, JsonSchema>, required: readonly string[] = []): JsonSchema => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
});

const declared = (properties: Record<string, JsonSchema>, required: readonly string[] = []): Declared => ({ openApi: object(properties, required) });

export const METADATA_QUERY = declared({ ...RENDER, root_path: flag() });

export const SEARCH_QUERY = declared({
  ...RENDER,
  ...FILTERS,
  ...PAGE,
  sort: strings('Keys to sort by, each optionally prefixed with - (descending)'),
});

export const DISTINCT_QUERY = declared({
  structure_families: flag(),
  specs: flag(),
  metadata: strings('Metadata keys (dotted paths) whose distinct values to list'),
  counts: flag(),
  ...FILTERS,
});

export const ARRAY_BLOCK_QUERY = declared({ ...FORMAT, block: { type: 'string', pattern: '^[0-9]*(,[0-9]+)*$' }, ...SLICE }, ['block']);

export const ARRAY_FULL_QUERY = declared({ ...FORMAT, ...SLICE });

const PARTITION = { partition: { type: 'integer', minimum: 0 } };
const COLUMN = { column: strings('Columns to include; all when absent') };
const FIELD = { field: strings('Children (or, for a table, columns) to include; all when absent') };

/** Query of the data routes that take their selection in the body (`POST /table/full`, `POST /container/full`). */
export const EXPORT_QUERY = declared(FORMAT);

export const TABLE_PARTITION_QUERY = declared({ ...PARTITION, ...COLUMN, ...FIELD, ...FORMAT }, ['partition']);

export const TABLE_PARTITION_POST_QUERY = declared({ ...PARTITION, ...FORMAT }, ['partition']);

export const TABLE_FULL_QUERY = declared({ ...COLUMN, ...FORMAT });

/** `GET /container/full` and the deprecated `GET /node/full`. */
export const CONTAINER_FULL_QUERY = declared({ ...FIELD, ...FORMAT });

const PERSIST = { persist: { type: 'boolean', default: true, description: 'Persist data to storage' } };

export const ARRAY_WRITE_QUERY = declared(PERSIST);

export const ARRAY_BLOCK_WRITE_QUERY = declared({ ...PERSIST, block: { type: 'string', pattern: INTS } }, ['block']);

export const ARRAY_PATCH_QUERY = declared(
  { extend: flag('Grow the array to fit'), ...PERSIST, offset: { type: 'string', minLength: 1, pattern: INTS }, shape: { type: 'string', minLength: 1, pattern: `${INTS}|^scalar$` } },
  ['offset', 'shape'],
);

export const TABLE_PARTITION_WRITE_QUERY = declared(PARTITION, ['partition']);

export const DATA_SOURCE_QUERY = declared({
  patch_shape: { type: 'string', pattern: `${INTS}|^scalar$`, description: 'Not supported by tiled-ts (400)' },
  patch_offset: { type: 'string', pattern: INTS, description: 'Not supported by tiled-ts (400)' },
});

/** `PUT` and `PATCH /metadata/{path}`. */
export class DropRevisionQueryDto {
  static readonly openApi = object({ drop_revision: flag('Replace without keeping the current metadata as a revision') });

  constructor(readonly dropRevision: boolean) {}

  static parse(value: unknown): DropRevisionQueryDto {
    return new DropRevisionQueryDto(boolParam((value ?? {}) as Query, 'drop_revision'));
  }
}

/** `DELETE /metadata/{path}`. */
export class DeleteNodeQueryDto {
  static readonly openApi = object({
    recursive: { type: 'boolean', default: false, description: 'Delete children too' },
    external_only: { type: 'boolean', default: true, description: 'Delete the node only if its data is external (registered files)' },
  });

  constructor(
    readonly recursive: boolean,
    readonly externalOnly: boolean,
  ) {}

  static parse(value: unknown): DeleteNodeQueryDto {
    const query = (value ?? {}) as Query;
    const recursive = boolParam(query, 'recursive');
    return new DeleteNodeQueryDto(recursive, boolParam(query, 'external_only', true));
  }
}

/** `GET /revisions/{path}`: Tiled's pagination (`page[cursor]` is another name for the offset). */
export class RevisionsQueryDto {
  static readonly openApi = object(PAGE);

  constructor(
    readonly offset: number,
    readonly limit: number,
  ) {}

  static parse(value: unknown): RevisionsQueryDto {
    const query = (value ?? {}) as Query;
    const offset = intParam(query, 'page[offset]', { ge: 0 });
    const cursor = intParam(query, 'page[cursor]', { ge: 0 });
    const limit = intParam(query, 'page[limit]', { ge: 0, le: 300 }) ?? 100;
    if (offset !== undefined && cursor !== undefined) throw new BadRequestError('Cannot specify both page[cursor] and page[offset]');
    return new RevisionsQueryDto(offset ?? cursor ?? 0, limit);
  }
}

/** `DELETE /revisions/{path}`. */
export class RevisionNumberQueryDto {
  static readonly openApi = object({ number: { type: 'integer' } }, ['number']);

  constructor(readonly number: number) {}

  static parse(value: unknown): RevisionNumberQueryDto {
    const number = intParam((value ?? {}) as Query, 'number');
    if (number === undefined) throw missing('number');
    return new RevisionNumberQueryDto(number);
  }
}

/** `GET /asset/manifest/{path}` and `GET /asset/bytes/{path}`: which asset, and (bytes) which file in a directory asset. */
export class AssetQueryDto {
  static readonly openApi = object({ id: { type: 'integer' }, relative_path: { type: 'string', description: 'A file inside a directory asset (bytes only)' } }, ['id']);

  constructor(
    readonly id: number,
    readonly relativePath: string | undefined,
  ) {}

  static parse(value: unknown): AssetQueryDto {
    const query = (value ?? {}) as Query;
    const id = intParam(query, 'id');
    if (id === undefined) throw missing('id');
    const relative = query.relative_path;
    return new AssetQueryDto(id, typeof relative === 'string' ? relative : undefined);
  }
}

const MAX_EXPLAIN_PATH = 4096;

/** `GET /auth/explain`: the node and the scope to explain. */
export class ExplainQueryDto {
  static readonly openApi = object({
    path: { type: 'string', maxLength: MAX_EXPLAIN_PATH, default: '/', description: "A node's path" },
    scope: { type: 'string', default: 'read:metadata', description: 'One of the scopes in docs/scopes.md' },
  });

  constructor(
    readonly path: string,
    readonly scope: Scope,
  ) {}

  static parse(value: unknown): ExplainQueryDto {
    const query = (value ?? {}) as Query;
    const pathText = one(query, 'path');
    const scopeText = one(query, 'scope');
    const path = typeof pathText === 'string' ? pathText : '';
    const scope = typeof scopeText === 'string' && scopeText !== '' ? scopeText : 'read:metadata';
    if (path.length > MAX_EXPLAIN_PATH) throw UnprocessableError.of(['query', 'path'], `String should have at most ${MAX_EXPLAIN_PATH} characters`, 'string_too_long', path.slice(0, 64));
    if (!isScope(scope)) throw UnprocessableError.of(['query', 'scope'], 'Unknown scope; expected one of the scopes in docs/scopes.md', 'enum', scope);
    return new ExplainQueryDto(path, scope);
  }
}
