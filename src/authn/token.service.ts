import { randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';

export interface AccessClaims {
  /** Principal uuid, 32 hex. */
  sub: string;
  sub_typ: 'user' | 'service';
  scp: string[];
  state: Record<string, unknown>;
  ids: { id: string; idp: string }[];
  /** Session uuid, 32 hex (beyond Tiled: lets logout and revocation find the session). */
  sid: string;
  exp: number;
  type: 'access';
}

export interface RefreshClaims {
  type: 'refresh';
  sid: string;
  /** Which refresh token of the session this is; rotation accepts only the newest (beyond Tiled). */
  jti: string;
  exp: number;
}

export type VerifyResult<T> = { ok: true; claims: T } | { ok: false; reason: 'invalid' | 'expired' };

/**
 * HS256 JWTs with Tiled's claims. The first secret signs; every secret verifies, so keys rotate by
 * prepending a new one and dropping the old one after the longest token lifetime.
 */
export class TokenService {
  private readonly keys: Uint8Array[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('TokenService needs at least one secret key');
    this.keys = secrets.map((secret) => new TextEncoder().encode(secret));
  }

  /** One random key for this process; tokens die with it (hence the startup warning). */
  static randomSecret(): string {
    return randomBytes(32).toString('hex');
  }

  async sign(claims: AccessClaims | RefreshClaims): Promise<string> {
    return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(this.keys[0]);
  }

  async verifyAccess(token: string): Promise<VerifyResult<AccessClaims>> {
    const result = await this.verify(token);
    if (!result.ok) return result;
    const c = result.claims;
    // A refresh token (or anything else we signed) must never act as a bearer credential.
    if (c.type !== 'access' || typeof c.sub !== 'string' || !Array.isArray(c.scp) || !Array.isArray(c.ids)) {
      return { ok: false, reason: 'invalid' };
    }
    return { ok: true, claims: c as unknown as AccessClaims };
  }

  async verifyRefresh(token: string): Promise<VerifyResult<RefreshClaims>> {
    const result = await this.verify(token);
    if (!result.ok) return result;
    const c = result.claims;
    if (c.type !== 'refresh' || typeof c.sid !== 'string' || !/^[0-9a-f]{32}$/.test(c.sid) || typeof c.jti !== 'string') {
      return { ok: false, reason: 'invalid' };
    }
    return { ok: true, claims: c as unknown as RefreshClaims };
  }

  private async verify(token: string): Promise<VerifyResult<Record<string, unknown>>> {
    for (const key of this.keys) {
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
        return { ok: true, claims: payload as Record<string, unknown> };
      } catch (error) {
        // Expiry is only reported after the signature checked out, so it ends the search (as Tiled).
        if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
      }
    }
    return { ok: false, reason: 'invalid' };
  }
}
