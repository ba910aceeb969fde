import { UnprocessableError, ValidationProblem } from '../../common/errors/tiled-http.error';
import { Fields } from '../../common/validation/fields';
import type { JsonSchema } from '../../common/validation/openapi-schema';

/**
 * Form of `POST /auth/provider/{p}/token` for a password provider (OAuth2's password grant, Tiled's
 * `Body_handle_credentials_route…`). Not bound through the pipe: which body the route takes depends on
 * the provider (external ones poll with a device code), so the controller parses it once it knows.
 */
export class PasswordGrantDto {
  static readonly openApi: JsonSchema = {
    title: 'PasswordGrant',
    type: 'object',
    properties: {
      grant_type: { anyOf: [{ type: 'string', pattern: '^password$' }, { type: 'null' }] },
      username: { type: 'string' },
      password: { type: 'string', format: 'password' },
      scope: { type: 'string', default: '' },
      client_id: { anyOf: [{ type: 'string' }, { type: 'null' }] },
      client_secret: { anyOf: [{ type: 'string' }, { type: 'null' }], format: 'password' },
    },
    required: ['username', 'password'],
  };

  constructor(
    readonly username: string,
    readonly password: string,
  ) {}

  /** Both fields missing are reported together, with FastAPI's texts (a JSON body reads as an empty form). */
  static parse(form: unknown): PasswordGrantDto {
    const fields = new Fields('body', form);
    const problems: ValidationProblem[] = [];
    for (const field of ['username', 'password']) {
      if (typeof fields.raw(field) !== 'string') problems.push({ type: 'missing', loc: ['body', field], msg: 'Field required', input: null });
    }
    const grantType = fields.raw('grant_type');
    if (grantType !== undefined && grantType !== 'password' && grantType !== '') {
      problems.push({ type: 'string_pattern_mismatch', loc: ['body', 'grant_type'], msg: "String should match pattern '^password$'", input: grantType });
    }
    if (problems.length) throw new UnprocessableError(problems);
    return new PasswordGrantDto(fields.raw('username') as string, fields.raw('password') as string);
  }
}
