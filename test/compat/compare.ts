import { tableFromIPC } from 'apache-arrow';
import { Exchange, header, headersNamed } from './capture';
import { Answer, capturedDocument, isObject, ourDocument, Replayer } from './replay';

/**
 * A deliberate difference from Tiled (docs/compatibility.md lists each with its reason): for the
 * exchange with this title, ours must answer `status` (and `detail`, when given) instead.
 */
export interface KnownDifference {
  /** Our status, when it differs; then only status, headers and `detail` are compared. */
  status?: number;
  detail?: unknown;
  /** Differences (lines of compareExchange's answer) that are expected, e.g. /^body\.formats/. */
  ignore?: RegExp;
  reason: string;
}

/** Values that differ by nature between two servers: ids, secrets, times, ETags, tokens. */
function volatile(value: string): boolean {
  return (
    /^[0-9a-f]{8,}$/i.test(value) ||
    /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(value) ||
    /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value) ||
    /^eyJ/.test(value) ||
    /^[\w-]{43}$/.test(value)
  );
}

/** The base64 Arrow schema: pandas writes its own metadata into it, so only the prefix is Tiled's contract. */
const ARROW_SCHEMA_PREFIX = 'data:application/vnd.apache.arrow.file;base64,';

export function shapeDiff(expected: unknown, actual: unknown, path: string, replayer: Replayer, diffs: string[]): void {
  if (expected === null || actual === null) {
    if (expected !== actual) diffs.push(`${path}: expected ${JSON.stringify(expected)}, got ${describe(actual)}`);
    return;
  }
  if (expected instanceof Date || actual instanceof Date) {
    if (!(expected instanceof Date && actual instanceof Date)) diffs.push(`${path}: expected a ${kind(expected)}, got a ${kind(actual)}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return void diffs.push(`${path}: expected an array, got ${describe(actual)}`);
    if (expected.length !== actual.length) diffs.push(`${path}: expected ${expected.length} items, got ${actual.length}`);
    expected.slice(0, actual.length).forEach((item, i) => shapeDiff(item, actual[i], `${path}[${i}]`, replayer, diffs));
    return;
  }
  if (isObject(expected)) {
    if (!isObject(actual)) return void diffs.push(`${path}: expected an object, got ${describe(actual)}`);
    const missing = Object.keys(expected).filter((k) => !(k in actual));
    const extra = Object.keys(actual).filter((k) => !(k in expected));
    if (missing.length) diffs.push(`${path}: missing keys ${missing.join(', ')}`);
    if (extra.length) diffs.push(`${path}: extra keys ${extra.join(', ')}`);
    for (const k of Object.keys(expected)) if (k in actual) shapeDiff(expected[k], actual[k], `${path}.${k}`, replayer, diffs);
    return;
  }
  if (typeof expected !== typeof actual) return void diffs.push(`${path}: expected a ${kind(expected)}, got ${describe(actual)}`);
  if (typeof expected === 'string') {
    const translated = replayer.substitute(expected);
    if (translated === actual) return;
    if (expected.startsWith(ARROW_SCHEMA_PREFIX) && (actual as string).startsWith(ARROW_SCHEMA_PREFIX)) return;
    if (volatile(expected) && volatile(actual as string)) return;
    // A datetime rendered by Python with its offset vs without is a real difference, so only the same form passes above.
    diffs.push(`${path}: expected ${JSON.stringify(translated)}, got ${JSON.stringify(actual)}`);
    return;
  }
  if (typeof expected === 'number') {
    if (Number.isInteger(expected) !== Number.isInteger(actual)) diffs.push(`${path}: expected ${expected}, got ${actual}`);
    else if (!VOLATILE_NUMBER_PATHS.test(path) && expected !== actual) diffs.push(`${path}: expected ${expected}, got ${actual}`);
    return;
  }
  if (expected !== actual) diffs.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Numbers that are clocks or counters of a session, not contract. */
const VOLATILE_NUMBER_PATHS = /\.(exp|iat|refresh_count|expires_in|refresh_token_expires_in|time_created|latest_activity)$/;

function kind(value: unknown): string {
  if (value instanceof Date) return 'datetime';
  if (Array.isArray(value)) return 'array';
  return value === null ? 'null' : typeof value;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return `${kind(value)} ${text && text.length > 80 ? text.slice(0, 80) + '…' : text}`;
}

const CSRF_COOKIE = /^tiled_csrf=[\w-]{43}; HttpOnly; Path=\/; SameSite=lax$/;

function cookieNamed(values: string[], name: string): string | undefined {
  return values.find((v) => v.startsWith(`${name}=`));
}

/**
 * Everything the Tiled client (and curl users) depend on, compared between the captured answer and
 * ours. Returns one line per difference; an empty list means the exchange replays faithfully.
 */
export function compareExchange(exchange: Exchange, answer: Answer, replayer: Replayer, known?: KnownDifference): string[] {
  const diffs = rawDifferences(exchange, answer, replayer, known);
  return known?.ignore ? diffs.filter((d) => !known.ignore!.test(d)) : diffs;
}

function rawDifferences(exchange: Exchange, answer: Answer, replayer: Replayer, known?: KnownDifference): string[] {
  const diffs: string[] = [];
  const captured = exchange.response;
  const want = known?.status ?? captured.status;
  if (answer.status !== want) diffs.push(`status: expected ${want}, got ${answer.status} ${answer.body.toString('utf8').slice(0, 200)}`);

  const capturedType = header(captured.headers, 'content-type');
  const ourType = header(answer.headers, 'content-type');
  if (capturedType && captured.body.kind !== 'empty' && answer.status === captured.status && ourType !== capturedType) {
    diffs.push(`content-type: expected ${capturedType}, got ${ourType}`);
  }

  const capturedCookies = headersNamed(captured.headers, 'set-cookie');
  const ourCookies = headersNamed(answer.headers, 'set-cookie');
  const capturedCsrf = cookieNamed(capturedCookies, 'tiled_csrf');
  const ourCsrf = cookieNamed(ourCookies, 'tiled_csrf');
  if (Boolean(capturedCsrf) !== Boolean(ourCsrf)) diffs.push(`set-cookie tiled_csrf: expected ${capturedCsrf ? 'one' : 'none'}, got ${ourCsrf ?? 'none'}`);
  if (ourCsrf && !CSRF_COOKIE.test(ourCsrf)) diffs.push(`set-cookie tiled_csrf: unexpected form ${ourCsrf}`);
  const capturedKeyCookie = cookieNamed(capturedCookies, 'tiled_api_key');
  const ourKeyCookie = cookieNamed(ourCookies, 'tiled_api_key');
  if (capturedKeyCookie === undefined) {
    if (ourKeyCookie !== undefined) diffs.push(`set-cookie tiled_api_key: expected none, got ${ourKeyCookie}`);
  } else if (ourKeyCookie === undefined) {
    diffs.push(`set-cookie tiled_api_key: expected ${capturedKeyCookie}, got none`);
  } else {
    // The deletion cookie carries an expiry date; compare everything but it.
    const norm = (c: string): string => replayer.substitute(c).replace(/expires=[^;]+; /i, 'expires=…; ');
    if (norm(capturedKeyCookie) !== norm(ourKeyCookie)) diffs.push(`set-cookie tiled_api_key: expected ${norm(capturedKeyCookie)}, got ${norm(ourKeyCookie)}`);
  }

  for (const name of ['etag', 'x-tiled-root', 'expires', 'location']) {
    const c = header(captured.headers, name);
    const o = header(answer.headers, name);
    if (Boolean(c) !== Boolean(o)) diffs.push(`${name}: expected ${c ? 'present' : 'absent'}, got ${o ?? 'absent'}`);
  }
  const capturedChallenge = header(captured.headers, 'www-authenticate');
  const ourChallenge = header(answer.headers, 'www-authenticate');
  if (capturedChallenge !== ourChallenge) diffs.push(`www-authenticate: expected ${capturedChallenge}, got ${ourChallenge}`);
  const location = header(captured.headers, 'location');
  if (location && header(answer.headers, 'location') !== replayer.substitute(location)) {
    diffs.push(`location: expected ${replayer.substitute(location)}, got ${header(answer.headers, 'location')}`);
  }
  if (answer.encoding) {
    const offered = (header(answer.sent.headers, 'accept-encoding') ?? '').toLowerCase();
    if (!offered.includes(answer.encoding)) diffs.push(`content-encoding ${answer.encoding} was not offered (${offered})`);
  }

  if (known && (known.status !== undefined || known.detail !== undefined)) {
    if (known.detail !== undefined) {
      const doc = ourDocument(answer);
      if (!isObject(doc) || JSON.stringify(doc.detail) !== JSON.stringify(known.detail)) {
        diffs.push(`detail (known difference): expected ${JSON.stringify(known.detail)}, got ${answer.body.toString('utf8').slice(0, 200)}`);
      }
    }
    return diffs;
  }
  if (answer.status !== want) return diffs;
  diffs.push(...compareBody(exchange, answer, replayer));
  return diffs;
}

function compareBody(exchange: Exchange, answer: Answer, replayer: Replayer): string[] {
  const diffs: string[] = [];
  const body = exchange.response.body;
  const type = header(exchange.response.headers, 'content-type') ?? '';
  const compressed = Boolean(header(exchange.response.headers, 'content-encoding'));
  if (body.kind === 'empty') {
    if (answer.body.length !== 0) diffs.push(`body: expected empty, got ${answer.body.length} bytes`);
    return diffs;
  }
  const expected = capturedDocument(body);
  if (expected !== undefined) {
    const actual = ourDocument(answer);
    if (actual === undefined) return [`body: expected a document, got ${answer.body.toString('utf8').slice(0, 200)}`];
    shapeDiff(expected, actual, 'body', replayer, diffs);
    return diffs;
  }
  if (type === 'application/x-msgpack') {
    // Only a preview of a longer msgpack body was recorded: ours must at least decode.
    if (ourDocument(answer) === undefined) diffs.push('body: our msgpack does not decode');
    return diffs;
  }
  if (type === 'application/vnd.apache.arrow.file') {
    if (answer.body.subarray(0, 6).toString('latin1') !== 'ARROW1') diffs.push('body: not an Arrow IPC file (no ARROW1 magic)');
    else tableFromIPC(answer.body);
    return diffs;
  }
  if (body.kind === 'text' && !body.complete && type === 'application/json') {
    // A preview of a longer JSON answer: ours must be JSON with the same first key.
    const firstKey = /^\{"(\w+)"/.exec(body.text)?.[1];
    const doc = ourDocument(answer);
    if (!isObject(doc) || (firstKey && Object.keys(doc)[0] !== firstKey)) diffs.push(`body: expected JSON starting with ${firstKey}, got ${answer.body.toString('utf8').slice(0, 100)}`);
    return diffs;
  }
  if (body.kind === 'text' && body.complete) {
    const ours = answer.body.toString('utf8');
    if (ours.replace(/\s+$/, '') !== replayer.substitute(body.text).replace(/\s+$/, '')) {
      diffs.push(`body: expected ${JSON.stringify(body.text.slice(0, 300))}, got ${JSON.stringify(ours.slice(0, 300))}`);
    }
    return diffs;
  }
  if (body.kind === 'bytes' && !compressed) {
    if (answer.body.length !== body.length) diffs.push(`body: expected ${body.length} bytes, got ${answer.body.length}`);
    if (!answer.body.subarray(0, body.prefix.length).equals(body.prefix)) diffs.push('body: the first recorded bytes differ');
  }
  return diffs;
}
