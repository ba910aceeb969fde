import type { ApiKeyEntity } from '../database/entities';
import { dateTime, JsonSchema, nullable, stringList } from '../common/validation/openapi-schema';

/** `ApiKeyResponseDto` as a schema (Tiled's `APIKey`). */
export const API_KEY_SCHEMA: JsonSchema = {
  title: 'APIKey',
  type: 'object',
  properties: {
    first_eight: { type: 'string', minLength: 8, maxLength: 8 },
    expiration_time: nullable(dateTime),
    note: nullable({ type: 'string' }),
    scopes: stringList,
    access_tags: nullable(stringList),
    latest_activity: nullable(dateTime),
    path: { type: 'string', description: 'The subtree the key is bound to; absent when it reaches the whole catalog' },
  },
  required: ['first_eight', 'scopes'],
};

/** `ApiKeyWithSecretResponseDto` as a schema (Tiled's `APIKeyWithSecret`). */
export const API_KEY_WITH_SECRET_SCHEMA: JsonSchema = {
  ...API_KEY_SCHEMA,
  title: 'APIKeyWithSecret',
  properties: { ...(API_KEY_SCHEMA.properties as object), secret: { type: 'string', description: 'Shown this once' } },
  required: ['first_eight', 'scopes', 'secret'],
};

/** Tiled's `APIKey` (as the captured 04-apikeys.txt shows it). Key order matters to nobody but is kept as Tiled sends it. */
export interface ApiKeyResponseDto {
  first_eight: string;
  expiration_time: Date | null;
  note: string | null;
  scopes: string[];
  access_tags: string[] | null;
  latest_activity: Date | null;
  /** Beyond Tiled: the subtree the key is bound to; absent for a key that reaches the whole catalog (Tiled's shape). */
  path?: string;
}

/** Tiled's `APIKeyWithSecret`: only the creation response carries the secret. */
export interface ApiKeyWithSecretResponseDto extends ApiKeyResponseDto {
  /** The key itself, shown this once and never again (only its hash is stored). */
  secret: string;
}

/** The one rendering of a stored key (never its secret), for key routes, whoami and principal listings. */
export function toApiKeyResponse(row: ApiKeyEntity): ApiKeyResponseDto {
  return {
    first_eight: row.firstEight,
    expiration_time: row.expirationTime,
    note: row.note,
    scopes: row.scopes,
    access_tags: row.accessTags,
    latest_activity: row.latestActivity,
    ...(row.path ? { path: row.path } : {}),
  };
}
