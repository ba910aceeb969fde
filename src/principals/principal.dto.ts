import { API_KEY_SCHEMA, ApiKeyResponseDto } from './api-key-response.dto';
import { dateTime, JsonSchema, nullable, stringList } from '../common/validation/openapi-schema';

/** A principal as a request's caller: enough to name it and check what it may do. */
export interface PrincipalRef {
  /** Hyphenated UUID. */
  uuid: string;
  type: 'user' | 'service';
  identities: { id: string; provider: string }[];
}

/** Tiled's `Principal` (captured in 08-admin-principals.txt); dates are rendered by `encodeResult` (ISO in JSON, timestamps in msgpack). */
export interface PrincipalJson {
  /** Hyphenated UUID. */
  uuid: string;
  type: 'user' | 'service';
  identities: { id: string; provider: string; latest_login: Date | null }[];
  roles: { name: string; scopes: string[] }[];
  api_keys: ApiKeyResponseDto[];
  sessions: { uuid: string; expiration_time: Date; revoked: boolean; state: Record<string, unknown> }[];
  latest_activity: Date | null;
}

/** `PrincipalJson` as a schema (Tiled's `Principal`). */
export const PRINCIPAL_SCHEMA: JsonSchema = {
  title: 'Principal',
  description: 'Represents a User or Service',
  type: 'object',
  properties: {
    uuid: { type: 'string', format: 'uuid' },
    type: { title: 'PrincipalType', type: 'string', enum: ['user', 'service'] },
    identities: {
      type: 'array',
      items: { title: 'Identity', type: 'object', properties: { id: { type: 'string' }, provider: { type: 'string' }, latest_login: nullable(dateTime) }, required: ['id', 'provider'] },
    },
    roles: { type: 'array', items: { title: 'Role', type: 'object', properties: { name: { type: 'string' }, scopes: stringList }, required: ['name', 'scopes'] } },
    api_keys: { type: 'array', items: API_KEY_SCHEMA },
    sessions: {
      type: 'array',
      items: {
        title: 'Session',
        type: 'object',
        properties: { uuid: { type: 'string', format: 'uuid' }, expiration_time: dateTime, revoked: { type: 'boolean' }, state: nullable({ type: 'object' }) },
        required: ['uuid', 'expiration_time', 'revoked', 'state'],
      },
    },
    latest_activity: nullable(dateTime),
  },
  required: ['uuid', 'type', 'identities', 'roles', 'api_keys', 'sessions', 'latest_activity'],
};
