import { Fields } from '../../common/validation/fields';
import type { JsonSchema } from '../../common/validation/openapi-schema';

/** Body of `POST /auth/session/refresh` and `/session/revoke` (Tiled's `RefreshToken`). */
export class RefreshTokenDto {
  static readonly openApi: JsonSchema = { title: 'RefreshToken', type: 'object', properties: { refresh_token: { type: 'string' } }, required: ['refresh_token'] };

  constructor(readonly refresh_token: string) {}

  static parse(body: unknown): RefreshTokenDto {
    const fields = Fields.object(body);
    const token = fields.requiredString('refresh_token');
    fields.done();
    return new RefreshTokenDto(token);
  }
}

/** Body of `POST /auth/logout`: lenient, as Tiled's logout takes no body; a refresh token, if any, names the session to end. */
export class LogoutDto {
  static readonly bodyOptional = true;
  static readonly openApi: JsonSchema = {
    title: 'Logout',
    type: 'object',
    properties: { refresh_token: { type: 'string', description: 'Ends this session too; without it, only the cookie is cleared' } },
  };

  constructor(readonly refresh_token: string | undefined) {}

  static parse(body: unknown): LogoutDto {
    return new LogoutDto(new Fields('body', body).optionalString('refresh_token'));
  }
}
