import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { underCapLock } from '../database/capped-insert';
import {
  CompletedDeviceIdentity,
  DeviceLoginRequestEntity,
  ExternalLoginRequestEntity,
  UserCodeFailureEntity,
} from '../database/entities/external-login.entities';

/** The part of Tiled's token response this module reads; the whole body is passed on. */
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
  /** The redirect URI sent to the provider; the token request repeats it, whichever replica makes it. */
  redirectUri: string;
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
  intervalMs: number;
  expiresAt: number;
  lastPolledAt?: number;
  /** Set once the user finished in the browser; turned into a session by exactly one poll. */
  identity?: CompletedDeviceIdentity;
}

export type { CompletedDeviceIdentity };

/** `authentication.pending_logins_per_address` and `…_per_provider`. */
export interface PendingLoginCaps {
  perAddress: number;
  perProvider: number;
}

export type CapVerdict = { ok: true } | { ok: false; limit: 'address' | 'provider'; count: number; retryAfterMs: number };
/** Wrong user codes are counted per client address over this window. */
export const FAILURE_WINDOW_MS = 10 * 60 * 1000;
/** Expired rows are deleted at most this often per process (every replica sweeps; the DELETE is idempotent). */
const SWEEP_EVERY_MS = 60 * 1000;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Short-lived external-login state in the authentication database, so every replica behind a load
 * balancer sees the same logins. Keyed by SHA-256 of the secret the client holds (state, device code,
 * user code), so a database dump cannot be replayed. Everything single use is consumed with a
 * conditional DELETE/UPDATE whose affected-row count decides the one winner across replicas.
 *
 * Times are the application clock (epoch ms), as everywhere else in the authentication database.
 */
@Injectable()
export class ExternalLoginStore {
  private lastSweep = 0;

  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  /**
   * Stores a new pending login unless its client address or its provider already has `caps` many in
   * progress. Counted and inserted as one step (see underCapLock), so a burst of parallel `/authorize`
   * calls cannot overshoot either cap. Expired logins never count, whether or not swept yet.
   */
  async saveLoginUnderCaps(state: string, login: PendingLogin, address: string, caps: PendingLoginCaps, now: number): Promise<CapVerdict> {
    await this.sweep(now);
    return underCapLock(this.dataSource, 'pending-logins', async (manager) => {
      const logins = manager.getRepository(ExternalLoginRequestEntity);
      const live = () => logins.createQueryBuilder('r').where('r.expiration_time > :now', { now });
      const fromAddress = await live().andWhere('r.client_address = :address', { address }).getCount();
      if (fromAddress >= caps.perAddress) {
        const oldest = await live().andWhere('r.client_address = :address', { address }).orderBy('r.expiration_time', 'ASC').getOne();
        // Measured from now, not from `now`: the logins counted may have started while this one waited for the lock.
        return { ok: false, limit: 'address', count: fromAddress, retryAfterMs: (oldest?.expirationTime.getTime() ?? now) - Date.now() };
      }
      const forProvider = await live().andWhere('r.provider = :provider', { provider: login.provider }).getCount();
      if (forProvider >= caps.perProvider) return { ok: false, limit: 'provider', count: forProvider, retryAfterMs: SWEEP_EVERY_MS };
      await logins.insert({
        hashedState: sha256Hex(state),
        provider: login.provider,
        purpose: login.purpose,
        codeVerifier: login.codeVerifier,
        nonce: login.nonce,
        redirectUri: login.redirectUri,
        clientState: login.clientState ?? null,
        hashedDeviceCode: login.deviceCodeHash ?? null,
        clientAddress: address,
        failedAttempts: login.failedAttempts,
        expirationTime: new Date(login.expiresAt),
        timeCreated: new Date(now),
      });
      return { ok: true };
    });
  }

  /** The login for this state, if it is live; it stays stored (the device form may need a second try). */
  async peekLogin(state: string, now: number): Promise<PendingLogin | undefined> {
    const row = await this.logins().findOneBy({ hashedState: sha256Hex(state) });
    if (!row || row.expirationTime.getTime() <= now) return undefined;
    return toLogin(row);
  }

  /**
   * Single use: a state is consumed the first time it is presented with a code. Of two replicas
   * presented the same state at once, only the one whose DELETE removed the row gets the login.
   */
  async takeLogin(state: string, now: number): Promise<PendingLogin | undefined> {
    const hashedState = sha256Hex(state);
    const row = await this.logins().findOneBy({ hashedState });
    if (!row) return undefined;
    const deleted = await this.logins().createQueryBuilder().delete().where('hashed_state = :hashedState', { hashedState }).execute();
    if (deleted.affected !== 1 || row.expirationTime.getTime() <= now) return undefined;
    return toLogin(row);
  }

  /** Counts one wrong user code against the login; the new count, or undefined if the login is gone. */
  async recordWrongCode(state: string): Promise<number | undefined> {
    const hashedState = sha256Hex(state);
    await this.logins()
      .createQueryBuilder()
      .update(ExternalLoginRequestEntity)
      .set({ failedAttempts: () => 'failed_attempts + 1' })
      .where('hashed_state = :hashedState', { hashedState })
      .execute();
    const row = await this.logins().findOneBy({ hashedState });
    return row?.failedAttempts;
  }

  async dropLogin(state: string): Promise<void> {
    await this.logins().delete({ hashedState: sha256Hex(state) });
  }

  /** False when the user code collides with a live one (the caller draws another). */
  async saveDevice(deviceCode: string, userCode: string, device: Omit<PendingDevice, 'identity' | 'lastPolledAt'>, now: number): Promise<boolean> {
    const hashedUserCode = sha256Hex(userCode);
    // An expired request may still hold this user code until the next sweep; it must not block a new one.
    await this.devices().createQueryBuilder().delete().where('hashed_user_code = :hashedUserCode AND expiration_time <= :now', { hashedUserCode, now }).execute();
    try {
      await this.devices().insert({
        hashedDeviceCode: sha256Hex(deviceCode),
        hashedUserCode,
        provider: device.provider,
        intervalMs: device.intervalMs,
        lastPolledAt: null,
        identity: null,
        expirationTime: new Date(device.expiresAt),
        timeCreated: new Date(now),
      });
      return true;
    } catch (error) {
      // The unique index on the user code is the arbiter between replicas; any other failure is real.
      if (await this.devices().existsBy({ hashedUserCode })) return false;
      throw error;
    }
  }

  async device(deviceCodeHash: string, now: number): Promise<PendingDevice | undefined> {
    const row = await this.devices().findOneBy({ hashedDeviceCode: deviceCodeHash });
    if (!row) return undefined;
    if (row.expirationTime.getTime() <= now) {
      await this.deleteDevice(deviceCodeHash);
      return undefined;
    }
    return {
      provider: row.provider,
      intervalMs: row.intervalMs,
      expiresAt: row.expirationTime.getTime(),
      lastPolledAt: row.lastPolledAt?.getTime(),
      identity: row.identity ?? undefined,
    };
  }

  async deviceHashForUserCode(userCode: string): Promise<string | undefined> {
    const row = await this.devices().findOne({ where: { hashedUserCode: sha256Hex(userCode) }, select: { hashedDeviceCode: true } });
    return row?.hashedDeviceCode;
  }

  /** Records the identity the provider vouched for; false if the request expired or was completed already. */
  async completeDevice(deviceCodeHash: string, identity: CompletedDeviceIdentity, now: number): Promise<boolean> {
    const result = await this.devices()
      .createQueryBuilder()
      .update(DeviceLoginRequestEntity)
      // Serialised here, as the JSON column's transformer would: TypeORM's partial-update type cannot express a JSON object.
      .set({ identity: () => ':identity' })
      .where('hashed_device_code = :deviceCodeHash AND identity IS NULL AND expiration_time > :now', { deviceCodeHash, now, identity: JSON.stringify(identity) })
      .execute();
    return result.affected === 1;
  }

  /** The one poll whose DELETE removes a completed request may open the session; every other gets false. */
  async claimCompletedDevice(deviceCodeHash: string): Promise<boolean> {
    const result = await this.devices()
      .createQueryBuilder()
      .delete()
      .where('hashed_device_code = :deviceCodeHash AND identity IS NOT NULL', { deviceCodeHash })
      .execute();
    return result.affected === 1;
  }

  async recordPoll(deviceCodeHash: string, polledAt: number, intervalMs: number): Promise<void> {
    await this.devices().update({ hashedDeviceCode: deviceCodeHash }, { lastPolledAt: new Date(polledAt), intervalMs });
  }

  async deleteDevice(deviceCodeHash: string): Promise<void> {
    await this.devices().delete({ hashedDeviceCode: deviceCodeHash });
  }

  /** Wrong user codes from this address within the window, counted over every replica. */
  async recentFailures(address: string, now: number): Promise<number> {
    return this.failures()
      .createQueryBuilder('f')
      .where('f.address = :address AND f.time_created > :since', { address, since: now - FAILURE_WINDOW_MS })
      .getCount();
  }

  async recordFailure(address: string, now: number): Promise<void> {
    await this.failures().insert({ address, timeCreated: new Date(now) });
  }

  private async sweep(now: number): Promise<void> {
    if (now - this.lastSweep < SWEEP_EVERY_MS && now >= this.lastSweep) return;
    this.lastSweep = now;
    await this.logins().createQueryBuilder().delete().where('expiration_time <= :now', { now }).execute();
    await this.devices().createQueryBuilder().delete().where('expiration_time <= :now', { now }).execute();
    await this.failures().createQueryBuilder().delete().where('time_created <= :since', { since: now - FAILURE_WINDOW_MS }).execute();
  }

  private logins() {
    return this.dataSource.getRepository(ExternalLoginRequestEntity);
  }

  private devices() {
    return this.dataSource.getRepository(DeviceLoginRequestEntity);
  }

  private failures() {
    return this.dataSource.getRepository(UserCodeFailureEntity);
  }
}

function toLogin(row: ExternalLoginRequestEntity): PendingLogin {
  return {
    provider: row.provider,
    purpose: row.purpose === 'device' ? 'device' : 'browser',
    codeVerifier: row.codeVerifier,
    nonce: row.nonce,
    redirectUri: row.redirectUri,
    clientState: row.clientState ?? undefined,
    deviceCodeHash: row.hashedDeviceCode ?? undefined,
    failedAttempts: row.failedAttempts,
    expiresAt: row.expirationTime.getTime(),
  };
}
