import type { AuthContext } from '../auth/auth-context';

/**
 * Checks a multi-user API key (provided by the API-keys module, used by the multi-user resolver in
 * src/authn: the credential path runs guard → resolver → verifier → store, each importing only downwards).
 * Returns the caller's context, or null when the key is unknown, malformed, expired or revoked
 * (the resolver answers 401 "Invalid API key"). Must check revocation and expiry on every call.
 */
export interface ApiKeyVerifier {
  verify(secret: string): Promise<AuthContext | null>;
}

export const API_KEY_VERIFIER = Symbol('ApiKeyVerifier');
