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

/** Tiled's own spellings, so an unedited Tiled YAML file loads. */
export const TILED_AUTHENTICATOR_ALIASES: Record<string, string> = {
  'tiled.authenticators:DictionaryAuthenticator': 'dictionary',
  'tiled.authenticators:DummyAuthenticator': 'dummy',
  'tiled.authenticators:OIDCAuthenticator': 'oauth2',
};
