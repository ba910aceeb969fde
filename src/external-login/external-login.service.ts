import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ExternalAuthenticator, Identity } from '../plugins-api';
import { ExternalLoginError, ExternalLoginErrorCode } from './external-login.errors';
import { pluginFailureStatus } from '../plugin-host/plugin-failure';
import { addressKey } from './address-key';
import { ExternalLoginStore, PendingLogin, PendingLoginCaps, sha256Hex, TokenResponse } from './external-login.store';
import { formatUserCode, generateUserCode, normalizeUserCode } from './user-code';
import type { JsonSchema } from '../common/validation/openapi-schema';

/** Looks up started external authenticators by provider name (the plugin host's registry fits). */
export interface ExternalAuthenticators {
  external(provider: string): ExternalAuthenticator | undefined;
}
export const EXTERNAL_AUTHENTICATORS = Symbol('ExternalAuthenticators');

/** Creates the principal/identity if new and a session; returns Tiled's token response (SessionsService). */
export interface IdentityLogin {
  loginWithIdentity(provider: string, identity: Identity): Promise<TokenResponse>;
}
export const IDENTITY_LOGIN = Symbol('IdentityLogin');

export interface ExternalLoginOptions {
  /** `authentication.public_base_url`, e.g. https://tiled.example.org; see public-url.ts. */
  publicBaseUrl?: string;
  /** `authentication.pending_logins_per_address` / `…_per_provider`. */
  pendingLoginCaps: PendingLoginCaps;
}
export const EXTERNAL_LOGIN_OPTIONS = Symbol('ExternalLoginOptions');

/** How long the browser has between leaving for the provider and coming back. */
const LOGIN_TTL_MS = 10 * 60 * 1000;
/** Tiled's DEVICE_CODE_MAX_AGE. */
const DEVICE_TTL_MS = 15 * 60 * 1000;
const POLL_INTERVAL_S = 5;
/** RFC 8628 §3.5: each slow_down adds 5 seconds to the interval the client must keep. */
const SLOW_DOWN_STEP_MS = 5000;
/** Wrong user codes tolerated per browser login and per client address within the window. */
const MAX_ATTEMPTS_PER_LOGIN = 5;
const MAX_FAILURES_PER_ADDRESS = 10;

/** Tiled's device-flow start body (docs/oauth.md §3), with our user-code alphabet. */
export interface DeviceFlowStart {
  authorization_uri: string;
  verification_uri: string;
  interval: number;
  device_code: string;
  expires_in: number;
  user_code: string;
}

/** `DeviceFlowStart` as a schema, for the OpenAPI document. */
export const DEVICE_FLOW_START_SCHEMA: JsonSchema = {
  title: 'DeviceFlowStart',
  type: 'object',
  properties: {
    authorization_uri: { type: 'string' },
    verification_uri: { type: 'string' },
    interval: { type: 'integer', description: 'Seconds between polls' },
    device_code: { type: 'string' },
    expires_in: { type: 'integer' },
    user_code: { type: 'string' },
  },
  required: ['authorization_uri', 'verification_uri', 'interval', 'device_code', 'expires_in', 'user_code'],
};

export type CallbackResult =
  | { kind: 'tokens'; tokens: TokenResponse }
  | { kind: 'redirect'; location: string };

export type DeviceFormResult =
  | { kind: 'success'; interval: number }
  | { kind: 'retry'; status: number; message: string }
  | { kind: 'failure'; status: number; message: string };

const INVALID_USER_CODE = 'Invalid user code. It may have been mistyped, or the pending request may have expired.';
const LINK_EXPIRED = 'This login link is invalid or has expired. Start again with `tiled login`.';
const NO_SUCH_DEVICE_CODE = 'No such device_code. The pending request may have expired.';
const THIRD_PARTY_FAILED =
  'User code was correct but authentication with third party failed. Ask administrator to see logs for details.';

@Injectable()
export class ExternalLoginService {
  private readonly logger = new Logger(ExternalLoginService.name);
  private lastCapWarning = -Infinity;

  constructor(
    @Inject(EXTERNAL_AUTHENTICATORS) private readonly authenticators: ExternalAuthenticators,
    @Inject(IDENTITY_LOGIN) private readonly identityLogin: IdentityLogin,
    private readonly store: ExternalLoginStore,
    @Inject(EXTERNAL_LOGIN_OPTIONS) private readonly options: ExternalLoginOptions,
  ) {}

  /** 404 exactly like an unknown route: internal providers have no external routes (observed in Tiled). */
  authenticator(provider: string): ExternalAuthenticator {
    const authenticator = this.authenticators.external(provider);
    if (!authenticator) throw new ExternalLoginError(ExternalLoginErrorCode.unknown_provider, 'Not Found');
    return authenticator;
  }

  isExternal(provider: string): boolean {
    return this.authenticators.external(provider) !== undefined;
  }

  /** `GET …/authorize`: where to send the browser. */
  async beginBrowserLogin(provider: string, apiBase: string, clientState: string | undefined, clientAddress: string): Promise<string> {
    const authenticator = this.authenticator(provider);
    const redirectUri = `${apiBase}/auth/provider/${provider}/code`;
    const { state, login } = await this.newLogin(provider, 'browser', redirectUri, clientAddress, { clientState });
    return this.authorizationUrl(authenticator, provider, state, login);
  }

  /** `GET …/code`: the provider sent the browser back. */
  async completeBrowserLogin(provider: string, query: Record<string, string>): Promise<CallbackResult> {
    const authenticator = this.authenticator(provider);
    const login = query.state ? await this.store.takeLogin(query.state, Date.now()) : undefined;
    if (!login || login.provider !== provider || login.purpose !== 'browser') {
      this.logger.warn(`Login via "${provider}" refused: unknown, expired or reused state`);
      return this.failure(authenticator);
    }
    const identity = await this.complete(authenticator, provider, login, query);
    if (!identity) return this.failure(authenticator);
    const tokens = await this.identityLogin.loginWithIdentity(provider, identity);
    if (!authenticator.redirectOnSuccess) return { kind: 'tokens', tokens };
    const target = new URL(authenticator.redirectOnSuccess);
    const params: Record<string, string | undefined> = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      'identity.id': tokens.identity.id,
      'identity.provider': tokens.identity.provider,
      principal: tokens.principal,
      state: login.clientState,
    };
    for (const [key, value] of Object.entries(params)) if (value !== undefined) target.searchParams.set(key, value);
    return { kind: 'redirect', location: target.href };
  }

  /** `POST …/authorize`: start the device flow. */
  async startDeviceFlow(provider: string, apiBase: string, clientAddress: string): Promise<DeviceFlowStart> {
    const authenticator = this.authenticator(provider);
    const now = Date.now();
    const deviceCode = randomBytes(32).toString('hex');
    const expiresAt = now + DEVICE_TTL_MS;
    const redirectUri = `${apiBase}/auth/provider/${provider}/device_code`;
    // The login row first: it carries the caps, and so bounds the device rows too (one per login).
    const { state, login } = await this.newLogin(provider, 'device', redirectUri, clientAddress, { deviceCodeHash: sha256Hex(deviceCode), expiresAt });
    let userCode = generateUserCode();
    // ~2^39 codes: a collision with a live one is astronomically rare, but a retry costs nothing.
    for (let attempt = 0; !(await this.store.saveDevice(deviceCode, userCode, { provider, expiresAt, intervalMs: POLL_INTERVAL_S * 1000 }, now)); attempt++) {
      if (attempt >= 3) {
        await this.store.dropLogin(state);
        throw new ExternalLoginError(ExternalLoginErrorCode.user_code_allocation_failed, 'Could not allocate a user code; try again');
      }
      userCode = generateUserCode();
    }
    let authorizationUri: string;
    try {
      authorizationUri = await this.authorizationUrl(authenticator, provider, state, login);
    } catch (error) {
      await this.store.deleteDevice(sha256Hex(deviceCode));
      throw error;
    }
    return {
      authorization_uri: authorizationUri,
      verification_uri: `${apiBase}/auth/provider/${provider}/token`,
      interval: POLL_INTERVAL_S,
      device_code: deviceCode,
      expires_in: DEVICE_TTL_MS / 1000,
      user_code: formatUserCode(userCode),
    };
  }

  /** `GET …/device_code`: is this a live device-flow login (else the form is pointless)? */
  async checkDeviceLanding(provider: string, query: Record<string, string>): Promise<{ status: number; message: string } | undefined> {
    this.authenticator(provider);
    const login = query.state ? await this.store.peekLogin(query.state, Date.now()) : undefined;
    if (query.error) return { status: 401, message: THIRD_PARTY_FAILED };
    if (!login || login.provider !== provider || login.purpose !== 'device' || !query.code) {
      return { status: 400, message: LINK_EXPIRED };
    }
    return undefined;
  }

  /** `POST …/device_code`: the user typed the code shown in their terminal. */
  async submitUserCode(provider: string, form: Record<string, string>, address: string): Promise<DeviceFormResult> {
    const authenticator = this.authenticator(provider);
    const now = Date.now();
    if ((await this.store.recentFailures(address, now)) >= MAX_FAILURES_PER_ADDRESS) {
      this.logger.warn(`Device-code form for "${provider}": too many wrong codes from ${address}`);
      return { kind: 'failure', status: 429, message: 'Too many wrong codes. Wait a few minutes and start again.' };
    }
    const login = form.state ? await this.store.peekLogin(form.state, now) : undefined;
    if (!login || login.provider !== provider || login.purpose !== 'device' || !form.code) {
      return { kind: 'failure', status: 400, message: LINK_EXPIRED };
    }
    const userCode = normalizeUserCode(form.user_code ?? '');
    const deviceHash = userCode ? await this.store.deviceHashForUserCode(userCode) : undefined;
    const device = deviceHash ? await this.store.device(deviceHash, now) : undefined;
    // The code must belong to the very request whose link the user followed, so a code read over
    // someone's shoulder cannot be completed with another login.
    if (!device || !deviceHash || deviceHash !== login.deviceCodeHash || device.identity) {
      await this.store.recordFailure(address, now);
      const failedAttempts = await this.store.recordWrongCode(form.state);
      // Gone meanwhile: expired, ended by wrong codes, or used by a concurrent submission on another replica.
      if (failedAttempts === undefined) return { kind: 'failure', status: 400, message: LINK_EXPIRED };
      if (failedAttempts >= MAX_ATTEMPTS_PER_LOGIN) {
        await this.store.dropLogin(form.state);
        return { kind: 'failure', status: 401, message: 'Too many wrong codes. Start again with `tiled login`.' };
      }
      return { kind: 'retry', status: 401, message: INVALID_USER_CODE };
    }
    // A double submit (possibly to two replicas) must not use the authorization code twice.
    if (!(await this.store.takeLogin(form.state, now))) return { kind: 'failure', status: 400, message: LINK_EXPIRED };
    const identity = await this.complete(authenticator, provider, login, { code: form.code, state: form.state });
    if (!identity) return { kind: 'failure', status: 401, message: THIRD_PARTY_FAILED };
    if (!(await this.store.completeDevice(deviceHash, { id: identity.id, state: identity.state }, Date.now()))) {
      return { kind: 'failure', status: 400, message: LINK_EXPIRED };
    }
    return { kind: 'success', interval: Math.ceil(device.intervalMs / 1000) };
  }

  /**
   * `POST …/token` for an external provider: the terminal polls. Tiled's answers and statuses, plus
   * RFC 8628's `slow_down` for a client that polls faster than it was told.
   */
  async pollDeviceCode(provider: string, deviceCode: string | undefined): Promise<TokenResponse> {
    this.authenticator(provider);
    if (deviceCode === undefined || !/^[0-9a-f]{64}$/i.test(deviceCode)) throw new ExternalLoginError(ExternalLoginErrorCode.invalid_device_code, 'Invalid device code');
    const now = Date.now();
    const hash = sha256Hex(deviceCode.toLowerCase());
    const device = await this.store.device(hash, now);
    if (!device || device.provider !== provider) throw new ExternalLoginError(ExternalLoginErrorCode.no_such_device_code, NO_SUCH_DEVICE_CODE);
    if (device.identity) {
      // Two polls with one device code (e.g. on two replicas): the one that claims the row gets the session.
      if (!(await this.store.claimCompletedDevice(hash))) throw new ExternalLoginError(ExternalLoginErrorCode.no_such_device_code, NO_SUCH_DEVICE_CODE);
      return this.identityLogin.loginWithIdentity(provider, { id: device.identity.id, ...(device.identity.state ? { state: device.identity.state } : {}) });
    }
    const previous = device.lastPolledAt;
    if (previous !== undefined && now - previous < device.intervalMs) {
      const intervalMs = device.intervalMs + SLOW_DOWN_STEP_MS;
      await this.store.recordPoll(hash, now, intervalMs);
      throw new ExternalLoginError(ExternalLoginErrorCode.device_poll_refused, { error: 'slow_down', interval: intervalMs / 1000 });
    }
    await this.store.recordPoll(hash, now, device.intervalMs);
    throw new ExternalLoginError(ExternalLoginErrorCode.device_poll_refused, { error: 'authorization_pending' });
  }

  private async newLogin(
    provider: string,
    purpose: PendingLogin['purpose'],
    redirectUri: string,
    clientAddress: string,
    extra: { clientState?: string; deviceCodeHash?: string; expiresAt?: number },
  ): Promise<{ state: string; login: PendingLogin }> {
    const now = Date.now();
    const state = randomBytes(32).toString('base64url');
    const login: PendingLogin = {
      provider,
      purpose,
      codeVerifier: randomBytes(32).toString('base64url'),
      nonce: randomBytes(16).toString('base64url'),
      redirectUri,
      clientState: extra.clientState,
      deviceCodeHash: extra.deviceCodeHash,
      failedAttempts: 0,
      expiresAt: extra.expiresAt ?? now + LOGIN_TTL_MS,
    };
    const address = addressKey(clientAddress);
    const verdict = await this.store.saveLoginUnderCaps(state, login, address, this.options.pendingLoginCaps, now);
    if (!verdict.ok) {
      const retryAfter = String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000)));
      // Once a minute at most: a flood must not turn into a flood of log lines.
      if (now - this.lastCapWarning >= 60_000) {
        this.lastCapWarning = now;
        this.logger.warn(`Login via "${provider}" refused: ${verdict.count} logins already in progress ${verdict.limit === 'address' ? `from ${address}` : 'for this provider'}`);
      }
      if (verdict.limit === 'address') {
        throw new ExternalLoginError(
          ExternalLoginErrorCode.too_many_from_address,
          `Too many logins in progress from your address (${verdict.count}). Finish one, or try again in ${retryAfter} seconds.`,
          { 'retry-after': retryAfter },
        );
      }
      throw new ExternalLoginError(ExternalLoginErrorCode.too_many_in_progress, `Too many logins in progress via "${provider}"; try again in a few minutes`, { 'retry-after': retryAfter });
    }
    return { state, login };
  }

  private async authorizationUrl(authenticator: ExternalAuthenticator, provider: string, state: string, login: PendingLogin): Promise<string> {
    const codeChallenge = createHash('sha256').update(login.codeVerifier).digest('base64url');
    try {
      const { authorizationUrl } = await authenticator.beginLogin({ redirectUri: login.redirectUri, state, codeChallenge, nonce: login.nonce });
      return authorizationUrl;
    } catch (error) {
      await this.store.dropLogin(state);
      throw this.providerFailure(provider, error);
    }
  }

  /** The identity, or undefined for a rejected login (logged). A broken provider becomes a 503 (down) or 500. */
  private async complete(
    authenticator: ExternalAuthenticator,
    provider: string,
    login: PendingLogin,
    query: Record<string, string>,
  ): Promise<Identity | undefined> {
    let result;
    try {
      result = await authenticator.completeLogin({ query, redirectUri: login.redirectUri, codeVerifier: login.codeVerifier, nonce: login.nonce });
    } catch (error) {
      throw this.providerFailure(provider, error);
    }
    if (result.kind === 'rejected') {
      this.logger.warn(`Login via "${provider}" rejected: ${result.reason ?? 'no reason given'}`);
      return undefined;
    }
    if (typeof result.identity?.id !== 'string' || result.identity.id === '') {
      this.logger.warn(`Login via "${provider}" rejected: the authenticator returned an empty identity`);
      return undefined;
    }
    return result.identity;
  }

  private failure(authenticator: ExternalAuthenticator): CallbackResult {
    if (authenticator.redirectOnFailure) return { kind: 'redirect', location: authenticator.redirectOnFailure };
    throw new ExternalLoginError(ExternalLoginErrorCode.authentication_failure, 'Authentication failure');
  }

  private providerFailure(provider: string, error: unknown): ExternalLoginError {
    const message = error instanceof Error ? error.message : String(error);
    this.logger.error(`Authentication provider "${provider}" failed: ${message}`);
    return pluginFailureStatus(error) === 503
      ? new ExternalLoginError(ExternalLoginErrorCode.provider_unavailable, `Authentication provider "${provider}" is unavailable. Try again later or ask the administrator to check the server log.`)
      : new ExternalLoginError(ExternalLoginErrorCode.provider_failed, `Authentication provider "${provider}" failed. Ask the administrator to check the server log.`);
  }
}
