/**
 * Built-in authenticators by short name. Each entry loads lazily so a server only pays for what it uses.
 * Built-ins live in plugins/<name>/ and go through exactly the same checks as third-party plugins.
 */
export const BUILTIN_AUTHENTICATORS: Record<string, () => unknown> = {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  dictionary: () => require('../../plugins/dictionary/src'),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  dummy: () => require('../../plugins/dummy/src'),
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  oauth2: () => require('../../plugins/oauth2/src'),
};

/** Tiled's own spellings, so an unedited Tiled YAML file loads: a built-in, and optionally which of its exports. */
export const TILED_AUTHENTICATOR_ALIASES: Record<string, { module: string; exportName?: string }> = {
  'tiled.authenticators:DictionaryAuthenticator': { module: 'dictionary' },
  'tiled.authenticators:DummyAuthenticator': { module: 'dummy' },
  'tiled.authenticators:OIDCAuthenticator': { module: 'oauth2' },
  'tiled.authenticators:ProxiedOIDCAuthenticator': { module: 'oauth2', exportName: 'ProxiedOIDCAuthenticator' },
};

/**
 * Authenticators whose users present the identity provider's own tokens. Tiled allows one at most, and
 * no other provider beside it: the server could not tell whose token an unknown Bearer value is.
 */
export const PROXIED_AUTHENTICATOR_SPECS: ReadonlySet<string> = new Set(['tiled.authenticators:ProxiedOIDCAuthenticator']);

/** Tiled's two configuration errors (tiled/config.py), for the providers at these indexes among `total`. */
export function proxiedProviderProblems(proxiedIndexes: number[], total: number): { index: number; message: string }[] {
  if (proxiedIndexes.length >= 2) {
    return proxiedIndexes.slice(1).map((index) => ({ index, message: 'Multiple ProxiedOIDCAuthenticator instances are configured. Only one is allowed.' }));
  }
  if (proxiedIndexes.length === 1 && total > 1) {
    return [{ index: proxiedIndexes[0], message: 'ProxiedOIDCAuthenticator must not be configured together with other authentication providers.' }];
  }
  return [];
}
