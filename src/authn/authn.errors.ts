import { DomainError, ErrorCodeOf, defineErrorCodes } from '../common/errors/domain-error';

/** What logins, sessions and tokens refuse, with the status each answers (Tiled's wording in the detail). */
export const AuthnErrorCode = defineErrorCodes('authn', {
  incorrect_credentials: 401,
  session_expired: 401,
  invalid_token: 401,
  not_authenticated: 401,
  principal_gone: 401,
  session_limit_reached: 400,
  unknown_session: 409,
  session_not_found: 404,
  unknown_provider: 404,
  login_throttled: 429,
  provider_unavailable: 503,
  provider_failed: 500,
});
export type AuthnErrorCode = ErrorCodeOf<typeof AuthnErrorCode>;

export class AuthnError extends DomainError<AuthnErrorCode> {}
