/**
 * How the about document learns which login providers exist. Single-user mode has none;
 * the multi-user authentication module provides its own implementation under this token.
 */
export interface AboutProvider {
  provider: string;
  mode: 'internal' | 'external' | 'password';
  links: Record<string, string>;
  confirmation_message: string;
  extra_scopes: string[] | null;
}

export interface AboutProvidersSource {
  describe(apiBase: string, userAgent: string | undefined): AboutProvider[];
  /** Where clients refresh and end their sessions, when that is the identity provider rather than this server. */
  sessionLinks?(): { refresh_session: string; logout?: string } | undefined;
}

export const ABOUT_PROVIDERS = Symbol('AboutProviders');

export const NO_PROVIDERS: AboutProvidersSource = { describe: () => [] };
