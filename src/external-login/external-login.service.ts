import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ExternalAuthenticator, Identity } from '../plugins-api';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { ExternalLoginStore, PendingLogin, sha256Hex, TokenResponse } from './external-login.store';
import { formatUserCode, generateUserCode, normalizeUserCode } from './user-code';

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
const FAILURE_WINDOW_MS = 10 * 60 * 1000;

/** Tiled's device-flow start body (spec auth.md §8.1), with our user-code alphabet. */
export interface DeviceFlowStart {
  authorization_uri: string;
  verification_uri: string;
  interval: number;
  device_code: string;
  expires_in: number;
  user_code: string;
}

export type CallbackResult =
  | { kind: 'tokens'; tokens: TokenResponse }
  | { kind: 'redirect'; location: string };

export type DeviceFormResult =
  | { kind: 'success'; interval: number }
  | { kind: 'retry'; status: number; message: string }
  | { kind: 'failure'; status: number; message: string };

const INVALID_USER_CODE = 'Invalid user code. It may have been mistyped, or the pending request may have expired.';
const THIRD_PARTY_FAILED =
  'User code was correct but authentication with third party failed. Ask administrator to see logs for details.';

@Injectable()
export class ExternalLoginService {
  private readonly logger = new Logger(ExternalLoginService.name);
  private readonly failuresByAddress = new Map<string, number[]>();

  constructor(
    @Inject(EXTERNAL_AUTHENTICATORS) private readonly authenticators: ExternalAuthenticators,
    @Inject(IDENTITY_LOGIN) private readonly identityLogin: IdentityLogin,
    private readonly store: ExternalLoginStore,
  ) {}

  /** 404 exactly like an unknown route: internal providers have no external routes (observed in Tiled). */
  authenticator(provider: string): ExternalAuthenticator {
    const authenticator = this.authenticators.external(provider);
    if (!authenticator) throw new TiledHttpError(404, 'Not Found');
    return authenticator;
  }

  isExternal(provider: string): boolean {
    return this.authenticators.external(provider) !== undefined;
  }

  /** `GET …/authorize`: where to send the browser. */
  async beginBrowserLogin(provider: string, apiBase: string, clientState: string | undefined): Promise<string> {
    const authenticator = this.authenticator(provider);
    const { state } = this.newLogin(provider, 'browser', { clientState });
    return this.authorizationUrl(authenticator, provider, state, `${apiBase}/auth/provider/${provider}/code`);
  }

  /** `GET …/code`: the provider sent the browser back. */
  async completeBrowserLogin(provider: string, apiBase: string, query: Record<string, string>): Promise<CallbackResult> {
    const authenticator = this.authenticator(provider);
    const login = query.state ? this.store.takeLogin(query.state, Date.now()) : undefined;
    if (!login || login.provider !== provider || login.purpose !== 'browser') {
      this.logger.warn(`Login via "${provider}" refused: unknown, expired or reused state`);
      return this.failure(authenticator);
    }
    const identity = await this.complete(authenticator, provider, login, query, `${apiBase}/auth/provider/${provider}/code`);
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
  async startDeviceFlow(provider: string, apiBase: string): Promise<DeviceFlowStart> {
    const authenticator = this.authenticator(provider);
    if (!this.store.hasRoom()) throw new TiledHttpError(503, 'Too many logins in progress; try again in a few minutes');
    const deviceCode = randomBytes(32).toString('hex');
    let userCode = generateUserCode();
    const expiresAt = Date.now() + DEVICE_TTL_MS;
    // ~2^39 codes: a collision with a live one is astronomically rare, but a retry costs nothing.
    for (let attempt = 0; !this.store.saveDevice(deviceCode, userCode, { provider, expiresAt, intervalMs: POLL_INTERVAL_S * 1000 }); attempt++) {
      if (attempt >= 3) throw new TiledHttpError(503, 'Could not allocate a user code; try again');
      userCode = generateUserCode();
    }
    const { state } = this.newLogin(provider, 'device', { deviceCodeHash: sha256Hex(deviceCode), expiresAt });
    const authorizationUri = await this.authorizationUrl(authenticator, provider, state, `${apiBase}/auth/provider/${provider}/device_code`);
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
  checkDeviceLanding(provider: string, query: Record<string, string>): { status: number; message: string } | undefined {
    this.authenticator(provider);
    const login = query.state ? this.store.peekLogin(query.state, Date.now()) : undefined;
    if (query.error) return { status: 401, message: THIRD_PARTY_FAILED };
    if (!login || login.provider !== provider || login.purpose !== 'device' || !query.code) {
      return { status: 400, message: 'This login link is invalid or has expired. Start again with `tiled login`.' };
    }
    return undefined;
  }

  /** `POST …/device_code`: the user typed the code shown in their terminal. */
  async submitUserCode(provider: string, apiBase: string, form: Record<string, string>, address: string): Promise<DeviceFormResult> {
    const authenticator = this.authenticator(provider);
    const now = Date.now();
    if (this.tooManyFailures(address, now)) {
      this.logger.warn(`Device-code form for "${provider}": too many wrong codes from ${address}`);
      return { kind: 'failure', status: 429, message: 'Too many wrong codes. Wait a few minutes and start again.' };
    }
    const login = form.state ? this.store.peekLogin(form.state, now) : undefined;
    if (!login || login.provider !== provider || login.purpose !== 'device' || !form.code) {
      return { kind: 'failure', status: 400, message: 'This login link is invalid or has expired. Start again with `tiled login`.' };
    }
    const userCode = normalizeUserCode(form.user_code ?? '');
    const deviceHash = userCode ? this.store.deviceHashForUserCode(userCode) : undefined;
    const device = deviceHash ? this.store.device(deviceHash, now) : undefined;
    // The code must belong to the very request whose link the user followed, so a code read over
    // someone's shoulder cannot be completed with another login.
    if (!device || deviceHash !== login.deviceCodeHash || device.tokens) {
      this.recordFailure(address, now);
      login.failedAttempts += 1;
      if (login.failedAttempts >= MAX_ATTEMPTS_PER_LOGIN) {
        this.store.dropLogin(form.state);
        return { kind: 'failure', status: 401, message: 'Too many wrong codes. Start again with `tiled login`.' };
      }
      return { kind: 'retry', status: 401, message: INVALID_USER_CODE };
    }
    this.store.takeLogin(form.state, now);
    const identity = await this.complete(authenticator, provider, login, { code: form.code, state: form.state }, `${apiBase}/auth/provider/${provider}/device_code`);
    if (!identity) return { kind: 'failure', status: 401, message: THIRD_PARTY_FAILED };
    device.tokens = await this.identityLogin.loginWithIdentity(provider, identity);
    return { kind: 'success', interval: Math.ceil(device.intervalMs / 1000) };
  }

  /**
   * `POST …/token` for an external provider: the terminal polls. Tiled's answers and statuses, plus
   * RFC 8628's `slow_down` for a client that polls faster than it was told.
   */
  async pollDeviceCode(provider: string, body: unknown): Promise<TokenResponse> {
    this.authenticator(provider);
    const deviceCode = (body as { device_code?: unknown } | null)?.device_code;
    if (typeof deviceCode !== 'string' || !/^[0-9a-f]{64}$/i.test(deviceCode)) throw new TiledHttpError(401, 'Invalid device code');
    const now = Date.now();
    const hash = sha256Hex(deviceCode.toLowerCase());
    const device = this.store.device(hash, now);
    if (!device || device.provider !== provider) {
      throw new TiledHttpError(404, 'No such device_code. The pending request may have expired.');
    }
    if (device.tokens) {
      this.store.deleteDevice(hash);
      return device.tokens;
    }
    const previous = device.lastPolledAt;
    device.lastPolledAt = now;
    if (previous !== undefined && now - previous < device.intervalMs) {
      device.intervalMs += SLOW_DOWN_STEP_MS;
      throw new TiledHttpError(400, { error: 'slow_down', interval: device.intervalMs / 1000 });
    }
    throw new TiledHttpError(400, { error: 'authorization_pending' });
  }

  private newLogin(
    provider: string,
    purpose: PendingLogin['purpose'],
    extra: { clientState?: string; deviceCodeHash?: string; expiresAt?: number },
  ): { state: string } {
    if (!this.store.hasRoom()) throw new TiledHttpError(503, 'Too many logins in progress; try again in a few minutes');
    const state = randomBytes(32).toString('base64url');
    this.store.saveLogin(state, {
      provider,
      purpose,
      codeVerifier: randomBytes(32).toString('base64url'),
      nonce: randomBytes(16).toString('base64url'),
      clientState: extra.clientState,
      deviceCodeHash: extra.deviceCodeHash,
      failedAttempts: 0,
      expiresAt: extra.expiresAt ?? Date.now() + LOGIN_TTL_MS,
    });
    return { state };
  }

  private async authorizationUrl(authenticator: ExternalAuthenticator, provider: string, state: string, redirectUri: string): Promise<string> {
    const login = this.store.peekLogin(state, Date.now())!;
    const codeChallenge = createHash('sha256').update(login.codeVerifier).digest('base64url');
    try {
      const { authorizationUrl } = await authenticator.beginLogin({ redirectUri, state, codeChallenge, nonce: login.nonce });
      return authorizationUrl;
    } catch (error) {
      this.store.dropLogin(state);
      throw this.unavailable(provider, error);
    }
  }

  /** The identity, or undefined for a rejected login (logged). A broken provider becomes a 503. */
  private async complete(
    authenticator: ExternalAuthenticator,
    provider: string,
    login: PendingLogin,
    query: Record<string, string>,
    redirectUri: string,
  ): Promise<Identity | undefined> {
    let result;
    try {
      result = await authenticator.completeLogin({ query, redirectUri, codeVerifier: login.codeVerifier, nonce: login.nonce });
    } catch (error) {
      throw this.unavailable(provider, error);
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
    throw new TiledHttpError(401, 'Authentication failure');
  }

  private unavailable(provider: string, error: unknown): TiledHttpError {
    const message = error instanceof Error ? error.message : String(error);
    this.logger.error(`Authentication provider "${provider}" failed: ${message}`);
    return new TiledHttpError(503, `Authentication provider "${provider}" is unavailable. Try again later or ask the administrator to check the server log.`);
  }

  private tooManyFailures(address: string, now: number): boolean {
    const recent = (this.failuresByAddress.get(address) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS);
    this.failuresByAddress.set(address, recent);
    return recent.length >= MAX_FAILURES_PER_ADDRESS;
  }

  private recordFailure(address: string, now: number): void {
    const recent = this.failuresByAddress.get(address) ?? [];
    recent.push(now);
    this.failuresByAddress.set(address, recent);
  }
}
