import { TiledHttpError, UnprocessableError } from '../../common/errors/tiled-http.error';
import type { JsonSchema } from '../../common/validation/openapi-schema';
import type { Metadata, Spec } from '../tree/tree.types';
import { PATCH_METADATA_REQUEST, POST_METADATA_REQUEST, PUT_DATA_SOURCE_REQUEST, PUT_METADATA_REQUEST, STRUCTURE_FAMILIES } from './catalog-schemas';

/*
 * The JSON bodies of the catalog's write and register routes, parsed by the validation pipe before the
 * handler runs (src/common/validation/tiled-validation.pipe.ts), with pydantic's 422 shapes as Tiled's
 * models give them. What depends on the node written to (a data source's structure against the family,
 * a key already taken, a file's adapter) is checked by the services.
 */

type Json = Record<string, unknown>;

/** Tiled's bound on specs per node. */
export const MAX_SPECS = 20;
/** What POST /register can register. */
const REGISTERED_FAMILIES = ['container', 'array', 'table'];
/** Most assets one data source may name (a long image sequence); bounds the work of one request. */
export const MAX_ASSETS = 100_000;

export function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Pydantic's wording of an enum's values: 'a', 'b' or 'c'. */
function pyChoices(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}` : quoted.join('');
}

export function bodyProblem(loc: (string | number)[], msg: string, input: unknown, type = 'value_error'): UnprocessableError {
  return new UnprocessableError([{ type, loc: ['body', ...loc], msg, input }]);
}

function bodyObject(body: unknown): Json {
  if (!isObject(body)) throw bodyProblem([], 'Input should be a valid dictionary or object to extract fields from', body, 'model_attributes_type');
  return body;
}

/** `specs` as Tiled's model accepts them: a list of `{name, version}` (a bare name is accepted too), at most 20, unique. */
export function parseSpecs(value: unknown, loc: (string | number)[] = ['specs']): Spec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bodyProblem(loc, 'Input should be a valid list', value, 'list_type');
  const specs = value.map((item, i): Spec => {
    if (typeof item === 'string') return { name: item, version: null };
    if (!isObject(item) || typeof item.name !== 'string' || item.name.length > 255 || (item.version != null && typeof item.version !== 'string')) {
      throw bodyProblem([...loc, i], 'Input should be a spec: {"name": string (at most 255 characters), "version": string or null}', item);
    }
    return { name: item.name, version: (item.version as string | null | undefined) ?? null };
  });
  if (specs.length > MAX_SPECS) throw new TiledHttpError(422, `Update cannot result in more than ${MAX_SPECS} specs`);
  const seen = new Set(specs.map((s) => `${s.name}\u0000${s.version ?? ''}`));
  if (seen.size !== specs.length) throw new TiledHttpError(422, 'Update cannot result in non-unique specs');
  return specs;
}

/** The fields POST /metadata and POST /register share: family, metadata, specs, the list of data sources, id. */
function nodeFields(body: Json, families: readonly string[]): { family: string; metadata: Metadata; specs: Spec[]; rawSources: unknown[]; id: string | null } {
  const family = body.structure_family;
  if (typeof family !== 'string' || !families.includes(family)) {
    throw bodyProblem(['structure_family'], `Input should be ${pyChoices(families)}`, family ?? null, family === undefined ? 'missing' : 'enum');
  }
  const metadata = body.metadata ?? {};
  if (!isObject(metadata)) throw bodyProblem(['metadata'], 'Input should be a valid dictionary', metadata, 'dict_type');
  const specs = parseSpecs(body.specs);
  const rawSources = body.data_sources ?? [];
  if (!Array.isArray(rawSources)) throw bodyProblem(['data_sources'], 'Input should be a valid list', rawSources, 'list_type');
  if (body.id !== undefined && body.id !== null && typeof body.id !== 'string') throw bodyProblem(['id'], 'Input should be a valid string', body.id, 'string_type');
  return { family, metadata, specs, rawSources, id: typeof body.id === 'string' && body.id !== '' ? body.id : null };
}

export interface WritableSourceRequest {
  structure: Json | null;
  properties: Json;
  assets: boolean;
  mimetype: string | null;
}

function writableSource(value: unknown, index: number): WritableSourceRequest {
  if (!isObject(value)) throw bodyProblem(['data_sources', index], 'Input should be a valid dictionary', value, 'dict_type');
  const structure = value.structure ?? null;
  if (structure !== null && !isObject(structure)) throw bodyProblem(['data_sources', index, 'structure'], 'Input should be a valid dictionary', structure, 'dict_type');
  const properties = value.properties ?? {};
  if (!isObject(properties)) throw bodyProblem(['data_sources', index, 'properties'], 'Input should be a valid dictionary', properties, 'dict_type');
  const management = value.management ?? 'writable';
  if (management !== 'writable') throw bodyProblem(['data_sources', index, 'management'], "POST /metadata creates data sources managed by the server ('writable')", management);
  const mimetype = value.mimetype ?? null;
  if (mimetype !== null && typeof mimetype !== 'string') throw bodyProblem(['data_sources', index, 'mimetype'], 'Input should be a valid string', mimetype, 'string_type');
  return { structure, properties, assets: Array.isArray(value.assets) && value.assets.length > 0, mimetype };
}

/** Body of `POST /metadata/{path}` (Tiled's PostMetadataRequest). */
export class CreateNodeDto {
  static readonly openApi: JsonSchema = POST_METADATA_REQUEST;

  family!: string;
  metadata!: Metadata;
  specs!: Spec[];
  /** Null: the server picks a key. */
  id!: string | null;
  sources!: WritableSourceRequest[];
  /** The list as sent, echoed by 422s about it. */
  rawSources!: unknown[];
  accessBlob!: unknown;

  static parse(value: unknown): CreateNodeDto {
    const body = bodyObject(value);
    const fields = nodeFields(body, STRUCTURE_FAMILIES);
    const sources = fields.rawSources.map((source, i) => writableSource(source, i));
    return Object.assign(new CreateNodeDto(), { ...fields, sources, accessBlob: body.access_blob ?? null });
  }
}

/** Body of `PUT /metadata/{path}` (Tiled's PutMetadataRequest): null or absent keeps each part. */
export class ReplaceMetadataDto {
  static readonly openApi: JsonSchema = PUT_METADATA_REQUEST;

  metadata!: Metadata | null;
  specs!: Spec[] | null;
  /** Undefined: keep the node's blob. */
  accessBlob!: unknown;

  static parse(value: unknown): ReplaceMetadataDto {
    const body = bodyObject(value);
    if (body.metadata != null && !isObject(body.metadata)) throw bodyProblem(['metadata'], 'Input should be a valid dictionary', body.metadata, 'dict_type');
    return Object.assign(new ReplaceMetadataDto(), {
      metadata: (body.metadata as Metadata | null | undefined) ?? null,
      specs: body.specs == null ? null : parseSpecs(body.specs),
      accessBlob: body.access_blob ?? undefined,
    });
  }
}

/**
 * Body of `PATCH /metadata/{path}` (Tiled's PatchMetadataRequest): the patches of metadata, specs and access
 * blob in the dialect `content-type` names. The dialect is checked after the node is found (406 after 404, as Tiled).
 */
export class PatchMetadataDto {
  static readonly openApi: JsonSchema = PATCH_METADATA_REQUEST;

  contentType!: unknown;
  metadata!: unknown;
  specs!: unknown;
  accessBlob!: unknown;

  static parse(value: unknown): PatchMetadataDto {
    const body = bodyObject(value);
    return Object.assign(new PatchMetadataDto(), { contentType: body['content-type'], metadata: body.metadata, specs: body.specs, accessBlob: body.access_blob });
  }
}

export interface RegisteredAsset {
  dataUri: string;
  isDirectory: boolean;
  parameter: string | null;
  num: number | null;
}

export interface RegisteredSource {
  structureFamily: string;
  structure: Json | null;
  mimetype: string;
  parameters: Json;
  properties: Json;
  assets: RegisteredAsset[];
}

function registeredAsset(value: unknown, loc: (string | number)[]): RegisteredAsset {
  if (!isObject(value)) throw bodyProblem(loc, 'Input should be a valid dictionary', value, 'dict_type');
  if (typeof value.data_uri !== 'string' || value.data_uri.length > 4096) throw bodyProblem([...loc, 'data_uri'], 'Input should be a file: URI of at most 4096 characters', value.data_uri ?? null);
  const num = value.num ?? null;
  if (num !== null && !Number.isSafeInteger(num)) throw bodyProblem([...loc, 'num'], 'Input should be a valid integer', num, 'int_type');
  const parameter = value.parameter ?? null;
  if (parameter !== null && typeof parameter !== 'string') throw bodyProblem([...loc, 'parameter'], 'Input should be a valid string', parameter, 'string_type');
  return { dataUri: value.data_uri, isDirectory: value.is_directory === true, parameter, num: num as number | null };
}

function registeredSource(value: unknown, loc: (string | number)[], minAssets = 1): RegisteredSource {
  if (!isObject(value)) throw bodyProblem(loc, 'Input should be a valid dictionary', value, 'dict_type');
  const management = value.management ?? 'external';
  if (management !== 'external') throw bodyProblem([...loc, 'management'], "POST /register registers data sources managed outside the server ('external')", management);
  if (typeof value.mimetype !== 'string' || value.mimetype === '') throw bodyProblem([...loc, 'mimetype'], 'A registered data source needs the mimetype its adapter is chosen by', value.mimetype ?? null);
  const structure = value.structure ?? null;
  if (structure !== null && !isObject(structure)) throw bodyProblem([...loc, 'structure'], 'Input should be a valid dictionary', structure, 'dict_type');
  const parameters = value.parameters ?? {};
  if (!isObject(parameters)) throw bodyProblem([...loc, 'parameters'], 'Input should be a valid dictionary', parameters, 'dict_type');
  const properties = value.properties ?? {};
  if (!isObject(properties)) throw bodyProblem([...loc, 'properties'], 'Input should be a valid dictionary', properties, 'dict_type');
  const assets = value.assets ?? [];
  if (!Array.isArray(assets) || assets.length < minAssets || assets.length > MAX_ASSETS) {
    throw bodyProblem([...loc, 'assets'], `A registered data source names between ${minAssets} and ${MAX_ASSETS} assets`, Array.isArray(assets) ? `${assets.length} assets` : assets);
  }
  return {
    structureFamily: typeof value.structure_family === 'string' ? value.structure_family : '',
    structure,
    mimetype: value.mimetype,
    parameters,
    properties,
    assets: assets.map((a, i) => registeredAsset(a, [...loc, 'assets', i])),
  };
}

/** Body of `POST /register/{path}`: Tiled's PostMetadataRequest with data sources managed outside the server. */
export class RegisterNodeDto {
  static readonly openApi: JsonSchema = POST_METADATA_REQUEST;

  family!: string;
  metadata!: Metadata;
  specs!: Spec[];
  id!: string | null;
  sources!: RegisteredSource[];
  accessBlob!: unknown;

  static parse(value: unknown): RegisterNodeDto {
    const body = bodyObject(value);
    const { rawSources, ...fields } = nodeFields(body, REGISTERED_FAMILIES);
    const sources = rawSources.map((source, i) => registeredSource(source, ['data_sources', i]));
    if (fields.family !== 'container' && sources.length !== 1) throw bodyProblem(['data_sources'], `A registered ${fields.family} has exactly one data source, got ${sources.length}`, rawSources);
    if (sources.length > 1) throw bodyProblem(['data_sources'], `A registered container has at most one data source, got ${sources.length}`, rawSources);
    return Object.assign(new RegisterNodeDto(), { ...fields, sources, accessBlob: body.access_blob ?? null });
  }
}

/** Body of `PUT /data_source/{path}`: the registered data source to replace (by id), with any new assets. */
export class PutDataSourceDto {
  static readonly openApi: JsonSchema = PUT_DATA_SOURCE_REQUEST;

  id!: number;
  source!: RegisteredSource;

  static parse(value: unknown): PutDataSourceDto {
    if (!isObject(value) || !isObject(value.data_source)) throw bodyProblem(['data_source'], 'Field required', isObject(value) ? (value.data_source ?? null) : value, 'missing');
    const raw = value.data_source;
    if (!Number.isSafeInteger(raw.id)) throw bodyProblem(['data_source', 'id'], 'Input should be a valid integer: the id of the data source to replace', raw.id ?? null, 'int_type');
    return Object.assign(new PutDataSourceDto(), { id: raw.id as number, source: registeredSource(raw, ['data_source'], 0) });
  }
}
