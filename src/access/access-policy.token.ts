/** The configured access policy (AllowAllPolicy without `access_control:`), provided globally by AppModule. */
export const ACCESS_POLICY = Symbol('AccessPolicy');
