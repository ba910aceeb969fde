import { Fields } from '../../common/validation/fields';
import type { JsonSchema } from '../../common/validation/openapi-schema';
import { normalizeUuid } from '../../principals/principals.service';

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 300;

/**
 * Query of `GET /auth/principal`. Tiled reads `page[offset]`/`page[limit]`; its own Python client sends
 * `offset`/`limit` (which Tiled ignores). Both spellings are honoured here.
 */
export class PrincipalListQueryDto {
  static readonly openApi: JsonSchema = {
    type: 'object',
    properties: {
      'page[offset]': { type: 'integer', minimum: 0, default: 0, description: 'Also accepted as `offset`' },
      'page[limit]': { type: 'integer', minimum: 0, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT, description: 'Also accepted as `limit`' },
    },
  };

  constructor(
    readonly offset: number,
    readonly limit: number,
  ) {}

  static parse(query: unknown): PrincipalListQueryDto {
    const fields = new Fields('query', query);
    const offset = fields.integer('page[offset]', { alias: 'offset', fallback: 0, min: 0, max: Number.MAX_SAFE_INTEGER });
    const limit = fields.integer('page[limit]', { alias: 'limit', fallback: DEFAULT_PAGE_LIMIT, min: 0, max: MAX_PAGE_LIMIT });
    fields.done();
    return new PrincipalListQueryDto(offset, limit);
  }
}

/** Query of `POST /auth/principal`: the role of the new service principal. */
export class ServicePrincipalQueryDto {
  static readonly openApi: JsonSchema = { type: 'object', properties: { role: { type: 'string' } }, required: ['role'] };

  constructor(readonly role: string) {}

  static parse(query: unknown): ServicePrincipalQueryDto {
    const fields = new Fields('query', query);
    const role = fields.requiredString('role');
    fields.done();
    return new ServicePrincipalQueryDto(role);
  }
}

/** Path of `/auth/principal/{uuid}…`: hyphenated or 32-hex, normalised; anything else is FastAPI's `uuid_parsing`. */
export class PrincipalPathDto {
  static readonly openApi: JsonSchema = { type: 'object', properties: { uuid: { type: 'string', format: 'uuid' } }, required: ['uuid'] };

  constructor(readonly uuid: string) {}

  static parse(params: unknown): PrincipalPathDto {
    const fields = new Fields('path', params);
    const raw = fields.raw('uuid');
    const text = typeof raw === 'string' ? raw : '';
    const normalized = normalizeUuid(text);
    if (!normalized) {
      const bad = /[^0-9a-fA-F-]/.exec(text);
      const error = bad ? `invalid character: found \`${bad[0]}\` at ${bad.index}` : `invalid length: expected 32 hex digits, found ${text.replace(/-/g, '').length}`;
      fields.problems.push({ type: 'uuid_parsing', loc: ['path', 'uuid'], msg: `Input should be a valid UUID, ${error}`, input: raw, ctx: { error } });
    }
    fields.done();
    return new PrincipalPathDto(normalized ?? '');
  }
}

/** Query of `DELETE …/apikey`: which key; a whole key is accepted too (the service cuts it to eight characters). */
export class FirstEightQueryDto {
  static readonly openApi: JsonSchema = {
    type: 'object',
    properties: { first_eight: { type: 'string', description: 'The first eight characters of the key (a whole key is accepted too)' } },
    required: ['first_eight'],
  };

  constructor(readonly firstEight: string) {}

  static parse(query: unknown): FirstEightQueryDto {
    const fields = new Fields('query', query);
    const firstEight = fields.requiredString('first_eight');
    fields.done();
    return new FirstEightQueryDto(firstEight);
  }
}
