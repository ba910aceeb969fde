import { DomainError, ErrorCodeOf, defineErrorCodes } from '../common/errors/domain-error';

export const PrincipalErrorCode = defineErrorCodes('principals', {
  principal_gone: 404,
});
export type PrincipalErrorCode = ErrorCodeOf<typeof PrincipalErrorCode>;

export class PrincipalError extends DomainError<PrincipalErrorCode> {}
