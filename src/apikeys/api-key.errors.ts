import { DomainError, ErrorCodeOf, defineErrorCodes } from '../common/errors/domain-error';

/** What the API-key and principal-administration rules refuse, with the status each answers. */
export const ApiKeyErrorCode = defineErrorCodes('apikeys', {
  not_authenticated: 401,
  principal_gone: 401,
  no_key_presented: 401,
  invalid_key: 401,
  scopes_not_held: 403,
  beyond_calling_key: 403,
  access_tags_with_broad_scopes: 403,
  tags_beyond_calling_key: 403,
  tag_refused: 403,
  path_beyond_calling_key: 403,
  limit_reached: 400,
  allocation_failed: 503,
  principal_not_found: 404,
  key_not_found: 404,
  no_such_principal: 404,
});
export type ApiKeyErrorCode = ErrorCodeOf<typeof ApiKeyErrorCode>;

export class ApiKeyError extends DomainError<ApiKeyErrorCode> {}
