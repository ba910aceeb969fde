import { JsonSchema, nullable, stringList } from '../common/validation/openapi-schema';

const stringMap: JsonSchema = { type: 'object', additionalProperties: { type: 'string' } };

/** The about document as a schema (Tiled's `About`), for the OpenAPI document. */
export const ABOUT_SCHEMA: JsonSchema = {
  title: 'About',
  type: 'object',
  properties: {
    api_version: { type: 'integer' },
    library_version: { type: 'string' },
    formats: { type: 'object', additionalProperties: stringList },
    aliases: { type: 'object', additionalProperties: { type: 'object', additionalProperties: stringList } },
    queries: stringList,
    authentication: {
      title: 'AboutAuthentication',
      type: 'object',
      properties: {
        required: { type: 'boolean' },
        providers: {
          type: 'array',
          items: {
            title: 'AboutAuthenticationProvider',
            type: 'object',
            properties: {
              provider: { type: 'string' },
              mode: { type: 'string', enum: ['internal', 'external', 'password'] },
              links: stringMap,
              confirmation_message: nullable({ type: 'string' }),
              extra_scopes: nullable(stringList),
            },
            required: ['provider', 'mode', 'links'],
          },
        },
        links: nullable({
          title: 'AboutAuthenticationLinks',
          type: 'object',
          properties: {
            whoami: { type: 'string' },
            apikey: { type: 'string' },
            refresh_session: { type: 'string' },
            revoke_session: { type: 'string' },
            logout: { type: 'string' },
          },
          required: ['whoami', 'apikey', 'refresh_session', 'revoke_session', 'logout'],
        }),
      },
      required: ['required', 'providers'],
    },
    links: stringMap,
    meta: { type: 'object', additionalProperties: true },
  },
  required: ['api_version', 'library_version', 'formats', 'aliases', 'queries', 'authentication', 'links', 'meta'],
};
