import { DomainError, ErrorCodeOf, defineErrorCodes } from '../common/errors/domain-error';

/** What the OAuth2/OIDC and device-code flows refuse, with the status each answers. */
export const ExternalLoginErrorCode = defineErrorCodes('external_login', {
  unknown_provider: 404,
  user_code_allocation_failed: 503,
  invalid_device_code: 401,
  no_such_device_code: 404,
  /** RFC 8628's `slow_down` and `authorization_pending` (detail is an object, as Tiled sends it). */
  device_poll_refused: 400,
  too_many_from_address: 429,
  too_many_in_progress: 503,
  authentication_failure: 401,
  provider_unavailable: 503,
  provider_failed: 500,
});
export type ExternalLoginErrorCode = ErrorCodeOf<typeof ExternalLoginErrorCode>;

export class ExternalLoginError extends DomainError<ExternalLoginErrorCode> {}
