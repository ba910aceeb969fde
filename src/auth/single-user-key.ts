import { randomBytes } from 'node:crypto';

export interface SingleUserKey {
  key: string;
  /** True when this process made the key up; only then is it printed (a given key is a secret the operator has). */
  generated: boolean;
  warnings: string[];
}

const HOW_TO_GENERATE =
  'Generate a good one with:\n\n    openssl rand -hex 32\n\nor\n\n    node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'hex\'))"';

export class SingleUserKeyError extends Error {}

/**
 * Precedence as in Tiled: --api-key, then the configured key (the config loader has already folded
 * TILED_SINGLE_USER_API_KEY into it), then 32 random bytes in hex, generated once per process.
 */
export function resolveSingleUserKey(fromCli: string | undefined, fromConfig: string | undefined): SingleUserKey {
  const given = fromCli ?? fromConfig;
  if (given === undefined) return { key: randomBytes(32).toString('hex'), generated: true, warnings: [] };
  if (given === '') {
    throw new SingleUserKeyError(
      `The single-user API key is set to an empty value. Perhaps the environment variable TILED_SINGLE_USER_API_KEY is set to an empty string. ${HOW_TO_GENERATE}`,
    );
  }
  if (!/^[a-zA-Z0-9]+$/.test(given)) {
    throw new SingleUserKeyError(`The API key must only contain alphanumeric characters. ${HOW_TO_GENERATE}`);
  }
  const warnings =
    given.length < 16
      ? [`The single-user API key is only ${given.length} characters long; anyone who can reach the server could guess it. ${HOW_TO_GENERATE}`]
      : [];
  return { key: given, generated: false, warnings };
}
