import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';

/** The part of Tiled's token response (spec auth.md §7.3) this module reads; the whole body is passed on. */
export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  identity: { id: string; provider: string };
  principal: string;
}

/** What the server remembers between sending the browser to the provider and the provider sending it back. */
export interface PendingLogin {
  provider: string;
  purpose: 'browser' | 'device';
  codeVerifier: string;
  nonce: string;
  /** The `?state=` the caller of `/authorize` gave, handed back with `redirect_on_success`. */
  clientState?: string;
  /** Device flow: the pending device request this browser login completes. */
  deviceCodeHash?: string;
  /** Wrong user codes entered against this login so far. */
  failedAttempts: number;
  expiresAt: number;
}

export interface PendingDevice {
  provider: string;
  userCodeHash: string;
  intervalMs: number;
  expiresAt: number;
  lastPolledAt?: number;
  /** Set once the user finished in the browser; handed out to exactly one poll. */
  tokens?: TokenResponse;
}

/** Bounded so a flood of `/authorize` calls cannot exhaust memory; beyond it new logins get a 503. */
const MAX_ENTRIES = 20000;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Short-lived external-login state, keyed by SHA-256 of the secret the client holds (state, device code,
 * user code), so a dump of the store cannot be replayed. Entries are single use and expire.
 *
 * Kept in process memory: everything here lives for minutes and a restart only means "log in again".
 * A deployment with several server processes needs sticky routing for `/auth/provider/*` (see docs/oauth.md).
 */
@Injectable()
export class ExternalLoginStore {
  private readonly logins = new Map<string, PendingLogin>();
  private readonly devices = new Map<string, PendingDevice>();
  private readonly deviceByUserCode = new Map<string, string>();

  hasRoom(): boolean {
    this.sweep(Date.now());
    return this.logins.size < MAX_ENTRIES && this.devices.size < MAX_ENTRIES;
  }

  saveLogin(state: string, login: PendingLogin): void {
    this.logins.set(sha256Hex(state), login);
  }

  /** The login for this state, if it is live; it stays stored (the device form may need a second try). */
  peekLogin(state: string, now: number): PendingLogin | undefined {
    const login = this.logins.get(sha256Hex(state));
    if (!login || login.expiresAt <= now) return undefined;
    return login;
  }

  /** Single use: a state is consumed the first time it is presented with a code. */
  takeLogin(state: string, now: number): PendingLogin | undefined {
    const key = sha256Hex(state);
    const login = this.logins.get(key);
    this.logins.delete(key);
    if (!login || login.expiresAt <= now) return undefined;
    return login;
  }

  dropLogin(state: string): void {
    this.logins.delete(sha256Hex(state));
  }

  /** False when the user code collides with a live one (the caller draws another). */
  saveDevice(deviceCode: string, userCode: string, device: Omit<PendingDevice, 'userCodeHash'>): boolean {
    const userCodeHash = sha256Hex(userCode);
    if (this.deviceByUserCode.has(userCodeHash)) return false;
    const deviceCodeHash = sha256Hex(deviceCode);
    this.devices.set(deviceCodeHash, { ...device, userCodeHash });
    this.deviceByUserCode.set(userCodeHash, deviceCodeHash);
    return true;
  }

  device(deviceCodeHash: string, now: number): PendingDevice | undefined {
    const device = this.devices.get(deviceCodeHash);
    if (!device) return undefined;
    if (device.expiresAt <= now) {
      this.deleteDevice(deviceCodeHash);
      return undefined;
    }
    return device;
  }

  deviceHashForUserCode(userCode: string): string | undefined {
    return this.deviceByUserCode.get(sha256Hex(userCode));
  }

  deleteDevice(deviceCodeHash: string): void {
    const device = this.devices.get(deviceCodeHash);
    if (device) this.deviceByUserCode.delete(device.userCodeHash);
    this.devices.delete(deviceCodeHash);
  }

  private sweep(now: number): void {
    for (const [key, login] of this.logins) if (login.expiresAt <= now) this.logins.delete(key);
    for (const [key, device] of this.devices) if (device.expiresAt <= now) this.deleteDevice(key);
  }
}
