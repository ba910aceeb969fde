import type { JsonSchema } from 'tiled-ts/plugins-api';

/** The arguments of the generic `oauth2` authenticator. */
export interface OAuth2Args {
  client_id: string;
  client_secret: string;
  /** OpenID Connect discovery document; when given, the endpoints below come from it. */
  well_known_uri?: string;
  /** Plain OAuth2 (no discovery, no ID token): all three are required. */
  authorization_endpoint?: string;
  token_endpoint?: string;
  userinfo_endpoint?: string;
  /** Expected `aud` of ID tokens; defaults to `client_id`. */
  audience?: string;
  scopes?: string[];
  /** Which claim (ID token, else user-info) becomes the identity id. */
  user_id_claim?: string;
  confirmation_message?: string;
  redirect_on_success?: string | null;
  redirect_on_failure?: string | null;
}

/** Tiled's `OIDCAuthenticator` arguments (docs/oauth.md §2), so a Tiled config loads unedited. */
export interface TiledOidcArgs {
  audience: string;
  client_id: string;
  client_secret: string;
  well_known_uri: string;
  confirmation_message?: string;
  redirect_on_success?: string | null;
  redirect_on_failure?: string | null;
  user_id_claim?: string;
}

const url = { type: 'string', pattern: '^https?://' };
const optionalUrl = { anyOf: [url, { type: 'null' }] };
const secret = { type: 'string', minLength: 1 };

export const oauth2ArgsSchema: JsonSchema = {
  type: 'object',
  properties: {
    client_id: secret,
    client_secret: secret,
    well_known_uri: url,
    authorization_endpoint: url,
    token_endpoint: url,
    userinfo_endpoint: url,
    audience: { type: 'string', minLength: 1 },
    scopes: { type: 'array', items: { type: 'string', pattern: '^[!#-\\[\\]-~]+$' } },
    user_id_claim: { type: 'string', minLength: 1 },
    confirmation_message: { type: 'string' },
    redirect_on_success: optionalUrl,
    redirect_on_failure: optionalUrl,
  },
  required: ['client_id', 'client_secret'],
  additionalProperties: false,
};

/** The arguments Tiled's OIDC authenticators share: the provider, the audience, where a browser login lands. */
const tiledOidcCommon = {
  audience: { type: 'string', minLength: 1 },
  client_id: secret,
  well_known_uri: url,
  confirmation_message: { type: 'string' },
  redirect_on_success: optionalUrl,
  redirect_on_failure: optionalUrl,
  user_id_claim: { type: 'string', minLength: 1 },
};

export const tiledOidcArgsSchema: JsonSchema = {
  type: 'object',
  properties: { ...tiledOidcCommon, client_secret: secret },
  required: ['audience', 'client_id', 'client_secret', 'well_known_uri'],
  additionalProperties: false,
};

/** Tiled's `ProxiedOIDCAuthenticator` arguments (docs/oauth.md §6). */
export interface TiledProxiedOidcArgs {
  audience: string;
  client_id: string;
  well_known_uri: string;
  device_flow_client_id: string;
  client_secret?: string;
  /** Tiled scopes every request must hold. */
  scopes?: string[] | null;
  /** Identity-provider scope → the Tiled scopes it grants. */
  scopes_map?: Record<string, string[]> | null;
  confirmation_message?: string;
  redirect_on_success?: string | null;
  redirect_on_failure?: string | null;
  user_id_claim?: string;
}

const scopeList = { type: 'array', items: { type: 'string', minLength: 1 } };

export const tiledProxiedOidcArgsSchema: JsonSchema = {
  type: 'object',
  properties: {
    ...tiledOidcCommon,
    device_flow_client_id: { type: 'string', minLength: 1 },
    // Tiled's default is "": the device flow needs no secret, only the browser login through this server does.
    client_secret: { type: 'string' },
    scopes: { anyOf: [scopeList, { type: 'null' }] },
    scopes_map: { anyOf: [{ type: 'object', additionalProperties: scopeList }, { type: 'null' }] },
  },
  required: ['audience', 'client_id', 'well_known_uri', 'device_flow_client_id'],
  additionalProperties: false,
};
