import type { Request } from 'express';
import OAuth2Strategy, { AuthorizationError, InternalOAuthError, TokenError } from 'passport-oauth2';
import {
  AuthenticationOutcome,
  BeginLoginInput,
  CompleteLoginInput,
  ExternalAuthenticator,
  outcome,
  PluginContext,
  ProviderUnavailableError,
} from 'tiled-ts/plugins-api';
import { describe, Discovery, fetchDiscovery, IdTokenVerifier } from './oidc';
import { runStrategy, StrategyRequest } from './strategy-runner';

/** Arguments after defaults are applied; both the `oauth2` and the Tiled-alias spellings end up here. */
export interface OAuth2Settings {
  clientId: string;
  clientSecret: string;
  /** OpenID Connect when set; plain OAuth2 with `endpoints` otherwise. */
  wellKnownUri?: string;
  /** The document at `wellKnownUri`, when the caller has already read it (fetched on first use otherwise). */
  discovery?: Discovery;
  endpoints?: { authorization: string; token: string; userinfo: string };
  audience: string;
  scopes: string[];
  userIdClaim: string;
  confirmationMessage: string;
  redirectOnSuccess?: string;
  redirectOnFailure?: string;
}

interface ResolvedProvider {
  strategy: OAuth2Strategy;
  userinfoEndpoint?: string;
  verifier?: IdTokenVerifier;
}

interface LoginUser {
  id: string;
}

/** Token-endpoint errors that mean "this server is misconfigured at the provider", not "bad login". */
const CONFIGURATION_TOKEN_ERRORS = new Set(['invalid_client', 'unauthorized_client', 'unsupported_grant_type']);

/**
 * An external authenticator for OAuth2 and OpenID Connect providers, driving passport-oauth2 for the
 * authorization request and the code exchange. The host owns `state`, the PKCE verifier and the nonce,
 * so the strategy's session-bound state store is replaced by one that only hands back what the host
 * passed in (passport-oauth2's session store is behind many "Unable to verify authorization request
 * state" reports, auth0/passport-auth0#154).
 */
export function createOAuth2Authenticator(settings: OAuth2Settings, context: PluginContext): ExternalAuthenticator {
  let resolving: Promise<ResolvedProvider> | undefined;

  // Discovery is lazy (as in Tiled) so the server starts while the provider is down; a failed attempt
  // is forgotten so the next login retries instead of caching the outage.
  const resolveProvider = (): Promise<ResolvedProvider> => {
    resolving ??= buildProvider(settings, context).catch((error: unknown) => {
      resolving = undefined;
      throw error;
    });
    return resolving;
  };

  return {
    mode: 'external',
    confirmationMessage: settings.confirmationMessage,
    redirectOnSuccess: settings.redirectOnSuccess,
    redirectOnFailure: settings.redirectOnFailure,

    async beginLogin(input: BeginLoginInput): Promise<{ authorizationUrl: string }> {
      const { strategy } = await resolveProvider();
      const result = await runStrategy(strategy, strategyRequest({}, {}), {
        callbackURL: input.redirectUri,
        state: input.state,
        codeChallenge: input.codeChallenge,
        nonce: settings.wellKnownUri ? input.nonce : undefined,
      });
      if (result.kind !== 'redirect') throw new Error(`The OAuth2 strategy did not build an authorization URL (${result.kind})`);
      return { authorizationUrl: result.url };
    },

    async completeLogin(input: CompleteLoginInput): Promise<AuthenticationOutcome> {
      if (!input.query.code && !input.query.error) return outcome.rejected('the callback carries neither a code nor an error');
      const { strategy } = await resolveProvider();
      const result = await runStrategy(
        strategy,
        strategyRequest(input.query, { codeVerifier: input.codeVerifier, nonce: input.nonce }),
        { callbackURL: input.redirectUri },
      );
      switch (result.kind) {
        case 'success':
          return outcome.authenticated((result.user as LoginUser).id);
        case 'fail':
          return outcome.rejected(failureReason(result.challenge));
        case 'redirect':
          throw new Error('The OAuth2 strategy redirected during the callback');
        case 'error':
          return classifyError(result.error);
      }
    },
  };
}

function strategyRequest(query: Record<string, string>, tiled: StrategyRequest['tiled']): StrategyRequest {
  return { query, headers: {}, tiled };
}

async function buildProvider(settings: OAuth2Settings, context: PluginContext): Promise<ResolvedProvider> {
  let discovery: Discovery | undefined;
  let endpoints: { authorization: string; token: string; userinfo?: string };
  if (settings.wellKnownUri) {
    discovery = settings.discovery;
    if (!discovery) {
      discovery = await fetchDiscovery(context.fetch, settings.wellKnownUri);
      context.logger.info(`OpenID provider ${discovery.issuer} discovered`);
    }
    endpoints = { authorization: discovery.authorization_endpoint, token: discovery.token_endpoint, userinfo: discovery.userinfo_endpoint };
  } else if (settings.endpoints) {
    endpoints = settings.endpoints;
  } else {
    throw new Error('Neither well_known_uri nor endpoints are configured');
  }
  const verifier = discovery ? new IdTokenVerifier(discovery, settings.audience) : undefined;

  const hostStateStore = {
    store(_req: Request, _meta: OAuth2Strategy.Metadata, callback: OAuth2Strategy.StateStoreStoreCallback): void {
      // Unreachable: beginLogin always passes the host's state as a string, which bypasses the store.
      callback(new Error('state is owned by the host'), undefined);
    },
    verify(req: Request, _state: string, _meta: OAuth2Strategy.Metadata, callback: OAuth2Strategy.StateStoreVerifyCallback): void {
      // The host has already matched `state`. A string `ok` is how passport-oauth2 receives the PKCE verifier.
      const verifierForPkce = (req as unknown as StrategyRequest).tiled.codeVerifier;
      callback(null, verifierForPkce as unknown as boolean, undefined);
    },
  };

  const verify = (
    req: Request,
    accessToken: string,
    _refreshToken: string,
    params: Record<string, unknown>,
    _profile: unknown,
    done: OAuth2Strategy.VerifyCallback,
  ): void => {
    const request = req as unknown as StrategyRequest;
    identify(settings, context, { verifier, userinfo: endpoints.userinfo }, request, accessToken, params).then(
      (result) => (typeof result === 'string' ? done(null, false, { message: result }) : done(null, result)),
      (error: unknown) => done(error),
    );
  };

  const strategy = new OAuth2Strategy(
    {
      authorizationURL: endpoints.authorization,
      tokenURL: endpoints.token,
      clientID: settings.clientId,
      clientSecret: settings.clientSecret,
      scope: settings.scopes,
      scopeSeparator: ' ',
      // The typings declare both arities as overloads; passport-oauth2 dispatches on the declared arity instead.
      store: hostStateStore as unknown as OAuth2Strategy.StateStore,
      skipUserProfile: true,
      passReqToCallback: true,
    },
    verify,
  );
  strategy.authorizationParams = (options: { codeChallenge?: string; nonce?: string }): object => ({
    code_challenge: options.codeChallenge,
    code_challenge_method: 'S256',
    ...(options.nonce ? { nonce: options.nonce } : {}),
  });
  return { strategy, userinfoEndpoint: endpoints.userinfo, verifier };
}

/** The identity, or a string saying why the login is rejected. Throws when the provider is broken. */
async function identify(
  settings: OAuth2Settings,
  context: PluginContext,
  provider: { verifier?: IdTokenVerifier; userinfo?: string },
  request: StrategyRequest,
  accessToken: string,
  params: Record<string, unknown>,
): Promise<LoginUser | string> {
  let claims: Record<string, unknown> = {};
  if (provider.verifier) {
    if (typeof params.id_token !== 'string') return 'the token response has no id_token';
    const check = await provider.verifier.verify(params.id_token, {
      nonce: request.tiled.nonce ?? '',
      accessToken,
      now: context.now(),
    });
    if (!check.ok) return check.reason;
    claims = check.claims;
  }
  let id = claimValue(claims[settings.userIdClaim]);
  if (id === undefined && provider.userinfo) {
    const userinfo = await fetchUserinfo(context.fetch, provider.userinfo, accessToken);
    // OIDC Core §5.3.2: user-info about someone else than the ID token's subject must not be used.
    if (claims.sub !== undefined && userinfo.sub !== claims.sub) return 'user-info subject differs from the ID token subject';
    id = claimValue(userinfo[settings.userIdClaim]);
  }
  if (id === undefined) return `the provider did not supply the claim "${settings.userIdClaim}"`;
  return { id };
}

function claimValue(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

async function fetchUserinfo(fetchImpl: typeof fetch, endpoint: string, accessToken: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetchImpl(endpoint, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(10000),
    });
  } catch (error) {
    throw new ProviderUnavailableError(`Cannot reach the user-info endpoint ${endpoint}: ${describe(error)}`);
  }
  if (!response.ok) throw new ProviderUnavailableError(`The user-info endpoint ${endpoint} answered HTTP ${response.status}`);
  const body: unknown = await response.json().catch(() => undefined);
  if (!body || typeof body !== 'object') throw new ProviderUnavailableError(`The user-info endpoint ${endpoint} did not answer a JSON object`);
  return body as Record<string, unknown>;
}

function failureReason(challenge: unknown): string {
  if (challenge && typeof challenge === 'object' && typeof (challenge as { message?: unknown }).message === 'string') {
    return (challenge as { message: string }).message;
  }
  return 'the provider did not authenticate the user';
}

/** Keep "the user could not be logged in" (rejected) apart from "the provider or our setup is broken" (thrown). */
function classifyError(error: unknown): AuthenticationOutcome {
  if (error instanceof AuthorizationError) return outcome.rejected(`the provider returned ${error.code}: ${error.message ?? ''}`.trim());
  if (error instanceof TokenError) {
    if (CONFIGURATION_TOKEN_ERRORS.has(error.code)) {
      throw new Error(`The token endpoint refused this server's client credentials (${error.code}): check client_id and client_secret`);
    }
    return outcome.rejected(`the token endpoint refused the code (${error.code})`);
  }
  if (error instanceof InternalOAuthError) {
    const cause = (error as InternalOAuthError & { oauthError?: { statusCode?: number; message?: string; code?: string } }).oauthError;
    const detail = cause?.statusCode ? `HTTP ${cause.statusCode}` : (cause?.code ?? cause?.message ?? 'no answer');
    throw new ProviderUnavailableError(`The token endpoint could not be used: ${error.message} (${detail})`);
  }
  throw error;
}
