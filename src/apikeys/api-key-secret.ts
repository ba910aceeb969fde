import { hash, randomBytes } from 'node:crypto';

/** 32 bytes of entropy plus 4, because the first 8 hex characters are stored in clear (Tiled 0.2.16). */
export const SECRET_BYTES = 36;
export const SECRET_HEX_LENGTH = SECRET_BYTES * 2;
const SECRET_PATTERN = /^[0-9a-fA-F]{72}$/;

export interface NewSecret {
  /** Shown to the caller exactly once; never stored. */
  secret: string;
  firstEight: string;
  hashedSecret: string;
}

export function generateSecret(): NewSecret {
  const raw = randomBytes(SECRET_BYTES);
  const secret = raw.toString('hex');
  return { secret, firstEight: secret.slice(0, 8), hashedSecret: hashRaw(raw) };
}

/**
 * Hex SHA-256 of the secret's raw bytes (not of its hex text, as Tiled does), or null when the
 * presented value cannot be one of our keys; such values never reach the database.
 */
export function hashPresentedSecret(presented: string): string | null {
  if (!SECRET_PATTERN.test(presented)) return null;
  return hashRaw(Buffer.from(presented, 'hex'));
}

function hashRaw(raw: Buffer): string {
  // One-shot crypto.hash is measurably cheaper than createHash on the per-request path.
  return hash('sha256', raw, 'hex');
}
