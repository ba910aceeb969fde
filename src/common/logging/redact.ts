import { createHmac, randomBytes } from 'node:crypto';

/**
 * What a log line may say about a request, decided by what the server understood, not by how the
 * client spelled it. The router (find-my-way) cuts the query string at the first `?` or `#` and
 * fast-querystring decodes `+` and percent-escapes in names and values, so `?api%5Fkey=K`,
 * `?%61pi_key=K` and `/path#api_key=K` all authenticate with K: the redactor parses the same way and
 * judges the decoded name. Names are compared without case, `_` or `-` (`API-KEY` is still a key),
 * which can only redact more than the server reads, never less. No route carries a credential in its
 * path (the path parameters are provider names, principal and session uuids), so the path is kept.
 */
const SECRET_PARAMETERS = new Set(
  [
    'api_key',
    'apikey',
    'access_token',
    'refresh_token',
    'id_token',
    'token',
    'code',
    'code_verifier',
    'device_code',
    'user_code',
    'state',
    'csrf',
    'csrf_token',
    'password',
    'client_secret',
    'secret',
    'authorization',
  ].map(normalizeName),
);

/** Shown in place of a secret: short, readable, and never mistaken for a value. */
const REDACTED = '[redacted]';

/** `first_eight` identifies a key by its first eight characters; anything after them is the rest of a key. */
const FIRST_EIGHT = normalizeName('first_eight');
const PREFIX_LENGTH = 8;

/** A request target (`request.url`) fit for a log line: every credential in its query replaced by {@link REDACTED}. */
export function redactUrl(url: string): string {
  const cut = queryStart(url);
  if (cut < 0) return url;
  const query = url.slice(cut + 1);
  if (query === '') return url;
  return `${url.slice(0, cut + 1)}${query.split('&').map(redactParameter).join('&')}`;
}

/** Where find-my-way splits path from query: the first `?` or `#` after the first character. */
function queryStart(url: string): number {
  const question = url.indexOf('?', 1);
  const hash = url.indexOf('#', 1);
  if (question < 0) return hash;
  if (hash < 0) return question;
  return Math.min(question, hash);
}

function redactParameter(part: string): string {
  if (part === '') return part;
  const equals = part.indexOf('=');
  const rawName = equals < 0 ? part : part.slice(0, equals);
  const name = decodeComponent(rawName);
  const normalized = normalizeName(name);
  // A bare name (`?api_key`) has no value to hide.
  if (equals < 0) return part;
  const shownName = /^[\w.-]+$/.test(name) ? name : rawName;
  if (SECRET_PARAMETERS.has(normalized)) return `${shownName}=${REDACTED}`;
  if (normalized === FIRST_EIGHT) {
    const value = decodeComponent(part.slice(equals + 1));
    if (value.length <= PREFIX_LENGTH) return part;
    const prefix = value.slice(0, PREFIX_LENGTH);
    // The prefix is printed decoded, so only characters that cannot forge or break a log line.
    return `${shownName}=${/^[\w.-]+$/.test(prefix) ? prefix : ''}${REDACTED}`;
  }
  return part;
}

/** fast-querystring's decoding: `+` is a space, then percent-escapes; a malformed escape leaves the text as it was. */
function decodeComponent(text: string): string {
  const spaced = text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]/g, '');
}

/**
 * A stable stand-in for a user name in log lines. A failed login's user name is whatever was typed in
 * the first box, often a password typed in the wrong one, so it is never logged; its tag is. The tag
 * is a keyed hash: with `authentication.secret_keys` set, the same name gets the same tag on every
 * replica and after restarts (so an operator can follow one account's failures), and without the key
 * nobody can test guesses against the log. Without configured keys the key is random per process.
 */
export class LogPseudonyms {
  private readonly key: Buffer;

  constructor(secret: string | undefined) {
    // A key of its own, derived from the signing secret: tags must never double as anything signed.
    this.key = createHmac('sha256', secret ?? randomBytes(32)).update('tiled-ts log pseudonyms').digest();
  }

  /** 12 hex characters (48 bits): enough to tell accounts apart in a log, too few to be a useful hash. */
  tag(provider: string, username: string): string {
    return createHmac('sha256', this.key).update(`${provider}\u0000${username}`).digest('hex').slice(0, 12);
  }
}
