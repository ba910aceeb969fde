/**
 * The `oauth2` external authenticator: generic OAuth2 and OpenID Connect, written against the public
 * plugin API only. Also provides Tiled's `tiled.authenticators:OIDCAuthenticator` spelling.
 */
import { definePlugin, PLUGIN_API_VERSION, PluginContext } from 'tiled-ts/plugins-api';
import { OAuth2Args, oauth2ArgsSchema, TiledOidcArgs, tiledOidcArgsSchema, TiledProxiedOidcArgs, tiledProxiedOidcArgsSchema } from './args';
import { createOAuth2Authenticator, OAuth2Settings } from './oauth2-authenticator';
import { createProxiedOidcAuthenticator } from './proxied-oidc';

const meta = { name: 'oauth2', version: '1.0.0', apiVersion: PLUGIN_API_VERSION };

/** The browser login through this server of Tiled's OIDC authenticators, from their arguments. */
function browserLoginSettings(args: TiledOidcArgs | TiledProxiedOidcArgs): OAuth2Settings {
  return settingsFromOAuth2Args({
    client_id: args.client_id,
    client_secret: args.client_secret ?? '',
    well_known_uri: args.well_known_uri,
    audience: args.audience,
    user_id_claim: args.user_id_claim,
    confirmation_message: args.confirmation_message,
    redirect_on_success: args.redirect_on_success,
    redirect_on_failure: args.redirect_on_failure,
  });
}

/** Generic OAuth2 / OpenID Connect (`authenticator: oauth2`). */
export const OAuth2Authenticator = definePlugin<OAuth2Args>({
  meta,
  argsSchema: oauth2ArgsSchema,
  create(args: OAuth2Args, context: PluginContext) {
    return createOAuth2Authenticator(settingsFromOAuth2Args(args), context);
  },
});

/** Tiled's `OIDCAuthenticator` with Tiled's arguments (docs/oauth.md §2). */
export const OIDCAuthenticator = definePlugin<TiledOidcArgs>({
  meta: { ...meta, name: 'oauth2 (OIDCAuthenticator)' },
  argsSchema: tiledOidcArgsSchema,
  create(args: TiledOidcArgs, context: PluginContext) {
    return createOAuth2Authenticator(browserLoginSettings(args), context);
  },
});

/** Tiled's `ProxiedOIDCAuthenticator`: also accepts the identity provider's own access tokens (docs/oauth.md §6). */
export const ProxiedOIDCAuthenticator = definePlugin<TiledProxiedOidcArgs>({
  meta: { ...meta, name: 'oauth2 (ProxiedOIDCAuthenticator)' },
  argsSchema: tiledProxiedOidcArgsSchema,
  create(args: TiledProxiedOidcArgs, context: PluginContext) {
    return createProxiedOidcAuthenticator(args, browserLoginSettings(args), context);
  },
});

export default OAuth2Authenticator;

export function settingsFromOAuth2Args(args: OAuth2Args): OAuth2Settings {
  for (const key of ['client_id', 'client_secret'] as const) {
    const unexpanded = /^\$\{(\w+)\}$/.exec(args[key]);
    if (unexpanded) throw new Error(`${key} is the unexpanded reference \${${unexpanded[1]}}: set the environment variable ${unexpanded[1]}`);
  }
  const endpointKeys = ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint'] as const;
  const givenEndpoints = endpointKeys.filter((key) => args[key] !== undefined);
  if (args.well_known_uri && givenEndpoints.length > 0) {
    throw new Error(`give either well_known_uri (OpenID Connect) or ${endpointKeys.join(', ')} (plain OAuth2), not both`);
  }
  if (!args.well_known_uri && givenEndpoints.length !== endpointKeys.length) {
    const missing = endpointKeys.filter((key) => args[key] === undefined);
    throw new Error(`plain OAuth2 needs ${missing.join(', ')} (or give well_known_uri for OpenID Connect)`);
  }
  const oidc = Boolean(args.well_known_uri);
  const scopes = [...new Set([...(oidc ? ['openid'] : []), ...(args.scopes ?? [])])];
  return {
    clientId: args.client_id,
    clientSecret: args.client_secret,
    wellKnownUri: args.well_known_uri,
    endpoints: oidc
      ? undefined
      : { authorization: args.authorization_endpoint!, token: args.token_endpoint!, userinfo: args.userinfo_endpoint! },
    audience: args.audience ?? args.client_id,
    scopes,
    userIdClaim: args.user_id_claim ?? 'sub',
    confirmationMessage: args.confirmation_message ?? '',
    redirectOnSuccess: args.redirect_on_success ?? undefined,
    redirectOnFailure: args.redirect_on_failure ?? undefined,
  };
}
