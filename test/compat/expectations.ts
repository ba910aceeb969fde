import { KnownDifference } from './compare';

/** The reference server's toy users (README of the captures). */
export const TOY_USERS: Record<string, string> = { alice: 'secret1', bob: 'secret2', cara: 'secret3', admin: 'admin' };

export const MULTI_USER_FILES = [
  '01-about.txt',
  '02-login-token.txt',
  '03-whoami.txt',
  '04-apikeys.txt',
  '05-metadata-authn.txt',
  '06-scoped-and-expired-keys.txt',
  '09-search.txt',
  '10-arrays.txt',
  '11-tables.txt',
  '13-csrf-cookies.txt',
];

/** Waits the recording also made (the 1-second key is used after 2.5 s). */
export const PAUSE_BEFORE: Record<string, number> = { '1-second key used after 2.5 s (expired)': 2500 };

/** Keyed by `<file> <title>`. Each is explained in docs/compatibility.md. */
export const KNOWN_DIFFERENCES: Record<string, KnownDifference> = {};
