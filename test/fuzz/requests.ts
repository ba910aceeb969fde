import { readFileSync } from 'node:fs';
import { encode as encodeMsgpack } from '@msgpack/msgpack';
import * as fc from 'fast-check';
import { Mode, snapshotPath } from '../meta/route-table';
import { QUERY_FIELDS } from '../../src/catalog/query/filters';

/** One line of a route snapshot: `GET /api/v1/search/* → read:metadata`. */
export interface RouteTemplate {
  method: string;
  path: string;
}

/** Every route of one mode, as the committed route→scope snapshot lists them. */
export function snapshotRoutes(mode: Mode): RouteTemplate[] {
  return readFileSync(snapshotPath(mode), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [method, path] = line.split(' ');
      return { method, path };
    });
}

/**
 * Who the request claims to be. `valid-*` kinds are real credentials the fuzzer set up; the rest are
 * shapes a server must refuse or ignore.
 */
export type CredentialKind =
  | 'none'
  | 'valid-key'
  | 'valid-admin-key'
  | 'wrong-key'
  | 'expired-key'
  | 'revoked-key'
  | 'valid-token'
  | 'valid-admin-token'
  | 'expired-token'
  | 'foreign-token'
  | 'junk-jwt'
  | 'malformed';

/** Where an API key travels: Tiled accepts all three. */
export type KeyPlace = 'header' | 'query' | 'cookie';

export interface FuzzBody {
  contentType?: string;
  /** What the fuzzer meant to send, for the failure message. */
  kind: string;
  bytes: Buffer;
}

/** A request as the fuzzer generates it, before credentials are filled in (they differ per server). */
export interface FuzzRequest {
  /** The route template it was aimed at (the method may have been swapped for another). */
  route: string;
  method: string;
  /** Raw path as sent: may hold odd, encoded or mis-encoded characters. */
  path: string;
  /** Raw `name=value` pairs as sent (already encoded, or deliberately mis-encoded). */
  query: [string, string][];
  headers: [string, string][];
  credential: CredentialKind;
  keyPlace: KeyPlace;
  body?: FuzzBody;
}

/** Values of the server the fuzzer needs while generating: ids of real principals, sessions, keys. */
export interface KnownValues {
  /** Real node paths of the served tree (without leading slash). */
  nodes: string[];
  /** Principal uuids, session uuids, first_eight of keys that exist (none of them the fuzzer's own valid keys). */
  ids: string[];
  providers: string[];
  /** Refresh tokens the fuzzer may spend (sessions that are not its own). */
  spareRefreshTokens: string[];
  usernames: string[];
  passwords: string[];
}

/** Nodes of `tiled serve demo` (docs/catalog.md). `big` and the 10 MiB array are reached, but rarely. */
export const DEMO_NODES = [
  '',
  'small',
  'medium',
  'ints',
  'table',
  'nested',
  'nested/vec',
  'nested/deeper',
  'nested/deeper/cube',
  'arrays',
  'arrays/float64_1d',
  'arrays/float32_2d',
  'arrays/int64_1d',
  'arrays/int32_2d',
  'arrays/uint8_image',
  'arrays/bool_1d',
  'arrays/noise',
  'tables',
  'tables/measurements',
  'tables/measurements/temperature',
  'table/x',
  'table/y',
  'experiments',
  'experiments/run_1',
  'experiments/run_1/signal',
  'experiments/run_2',
  'many',
  'many/item_000',
  'many/item_007',
  'many/item_199',
];
const HEAVY_NODES = ['big', 'arrays/chunked_f32'];

/** Names that have bitten JavaScript servers: prototype keys, bracket shapes, empty and odd names. */
const NASTY_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  'then',
  'length',
  '',
  '[]',
  '[',
  ']',
  'a[b',
  'a]b[',
  'a[][]',
  'filter',
  'filter[]',
  'filter[__proto__]',
  'filter[constructor][condition][key]',
  'filter[eq]',
  'filter[eq][condition]',
  'page',
  'page[__proto__]',
  'page[offset][x]',
];


/** Query parameters each route family understands (docs/catalog.md, docs/http-api.md). */
const ROUTE_PARAMS: [RegExp, string[]][] = [
  [/\/metadata/, ['fields', 'select_metadata', 'omit_links', 'root_path', 'include_data_sources', 'format']],
  [/\/search/, ['page[offset]', 'page[limit]', 'sort', 'fields', 'select_metadata', 'omit_links', 'include_data_sources', 'format', 'max_depth']],
  [/\/distinct/, ['metadata', 'structure_families', 'specs', 'counts']],
  [/\/array\/block/, ['block', 'format', 'slice', 'expected_shape', 'filename']],
  [/\/array\/full/, ['slice', 'format', 'expected_shape', 'filename']],
  [/\/table\/partition/, ['partition', 'field', 'column', 'format', 'filename']],
  [/\/(table|container|node)\/full/, ['field', 'column', 'format', 'filename']],
  [/\/auth\/apikey/, ['first_eight']],
  [/\/auth\/principal/, ['role', 'offset', 'limit', 'first_eight']],
  [/\/authorize/, ['state', 'redirect_uri', 'client_id', 'code_challenge']],
  [/\/code/, ['code', 'state', 'error', 'error_description']],
  [/\/device_code/, ['code', 'user_code']],
];
const COMMON_PARAMS = ['api_key', 'format', 'pretty'];

const FORMATS = ['json', 'msgpack', 'csv', 'arrow', 'text', 'html', 'png', 'parquet', 'xlsx', 'application/json', 'application/x-msgpack', 'text/csv', 'constructor', '__proto__', 'toString', ''];

const ACCEPTS = [
  '*/*',
  'application/json',
  'application/x-msgpack',
  'application/x-msgpack, application/json;q=0.5',
  'application/json;q=0, application/x-msgpack;q=0.1',
  'text/csv',
  'text/plain',
  'text/html',
  'application/vnd.apache.arrow.file',
  'application/octet-stream',
  'application/json-seq',
  'image/png',
  'application/*',
  'nonsense',
  ';;;,,,',
  'application/json;q=abc',
  '',
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'multipart/form-data',
  'application/x-msgpack',
  'application/msgpack',
  'text/plain',
  'application/octet-stream',
  'application/xml',
  'nonsense',
  'application/json;;;',
  'constructor',
  '',
];

const ENCODINGS = ['gzip', 'deflate', 'br', 'identity', '*', 'gzip;q=0', 'zstd', 'nonsense', 'gzip, br;q=0.5'];

function hex(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength, maxLength });
}

/** Printable ASCII without `?`, `#` and `%` (they change how the target parses the URL). */
const SAFE_CHARS = fc.constantFrom(...'abcxyzABCXYZ0189-._~!$&\'()*+,;=:@[]{}|^`"<>\\'.split(''));

/** One path segment: plain, odd, percent-encoded, mis-encoded, latin-1, long. */
const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: SAFE_CHARS, maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }).map((s) => encodeURIComponent(s)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('.', '..', '%2e%2e', '%2F', '%2f..%2f', '%00', '%', '%G1', '%ff', '%c0%af', '%25', '%252F', '~', ';x=1', '__proto__', 'constructor', '%E2%80%AE', '%F0%9F%92%A9'),
  },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'é¿×ÿ\u0080'.split('')), minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 4000 }).map((n) => 'a'.repeat(n)) },
);

function nodePath(nodes: string[]): fc.Arbitrary<string> {
  const known = fc.constantFrom(...nodes);
  return fc.oneof(
    { weight: 10, arbitrary: known },
    { weight: 3, arbitrary: fc.tuple(known, fc.array(segment, { minLength: 1, maxLength: 3 })).map(([base, extra]) => [base, ...extra].filter((s, i) => i > 0 || s !== '').join('/')) },
    { weight: 3, arbitrary: fc.array(segment, { minLength: 1, maxLength: 6 }).map((segments) => segments.join('/')) },
    { weight: 1, arbitrary: fc.integer({ min: 20, max: 400 }).map((depth) => Array.from({ length: depth }, (_, i) => `d${i % 10}`).join('/')) },
    { weight: 1, arbitrary: fc.constantFrom(...nodes).map((p) => `${p}/`) },
    { weight: 1, arbitrary: fc.constantFrom(...nodes).map((p) => `/${p}`) },
    { weight: 1, arbitrary: fc.constantFrom(...HEAVY_NODES) },
  );
}

function idValue(known: KnownValues): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: known.ids.length > 0 ? fc.constantFrom(...known.ids) : fc.uuid() },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: segment },
    { weight: 1, arbitrary: fc.constantFrom('me', '__proto__', 'constructor', '00000000-0000-0000-0000-000000000000', 'null', '') },
  );
}

/** Expand `*`, `:uuid`, `:provider`, `:sessionId` of a route template into a raw path. */
function pathFor(template: string, known: KnownValues): fc.Arbitrary<string> {
  const parts = template.split('/');
  const pieces = parts.map((part): fc.Arbitrary<string> => {
    if (part === '*') return nodePath(known.nodes);
    if (part === ':provider') return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known.providers) }, { weight: 1, arbitrary: segment });
    if (part.startsWith(':')) return idValue(known);
    return fc.constant(part);
  });
  return fc.tuple(...pieces).map((segments) => segments.join('/'));
}

/** JSON text of a value, a deep nest, or a string that is not JSON at all. */
const jsonishValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }) },
);

const BROKEN_ENCODINGS = ['%', '%G', '%e2%82'];

/** Mostly percent-encoded; sometimes raw where Node's client allows it, or deliberately mis-encoded. */
function encoded(values: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(values, fc.nat(15)).map(([value, pick]) => {
    if (pick < 12) return encodeURIComponent(value);
    if (pick < 14) return escapeName(value);
    if (pick === 14) return `${encodeURIComponent(value)}%`;
    return BROKEN_ENCODINGS[value.length % BROKEN_ENCODINGS.length];
  });
}

/** Raw, except what would end the parameter or is not allowed on the wire. */
function escapeName(name: string): string {
  return name.replace(/[^\x21-\x7e]|[?#&=%+]/g, (c) => encodeURIComponent(c));
}

/** A raw query value: plausible for the parameter, JSON, odd, or huge (within a URL a server must accept or refuse). */
function queryValue(name: string, known: KnownValues): fc.Arbitrary<string> {
  const plausible: fc.Arbitrary<string>[] = [fc.string({ maxLength: 10 }), fc.integer({ min: -5, max: 1000 }).map(String)];
  if (name === 'format') plausible.push(fc.constantFrom(...FORMATS));
  if (name === 'block' || name === 'slice' || name === 'expected_shape' || name === 'partition') {
    plausible.push(
      fc.array(fc.integer({ min: -3, max: 3000 }), { maxLength: 4 }).map((n) => n.join(',')),
      fc.constantFrom('0,0', '0', '1,0', ':', '::', '0:5', '::-1', '1:2,3:4', '...', '0,0,0,0,0,0,0,0', 'a,b', '99999999999999999999', '-0', '1e3', ',,'),
    );
  }
  if (name === 'select_metadata') {
    plausible.push(
      fc.constantFrom('sample.id', 'sample.', 'abs(description)', '[*]', '*.*', '@', '`{}`', 'a[?b==`1`]', 'length(@)'),
      fc.tuple(fc.integer({ min: 100, max: 3000 }), fc.constantFrom('[', '(', '{', '!', '[*].')).map(([n, piece]) => piece.repeat(n)),
    );
  }
  if (name === 'sort') plausible.push(fc.constantFrom('index', '-index', 'score,-color', '__proto__', '-constructor', 'a.b.c', ','));
  if (name === 'fields') plausible.push(fc.constantFrom('metadata', 'structure', 'structure_family', 'specs', 'data_sources', 'count', 'sorting', '__proto__'));
  if (name === 'metadata' || name === 'field' || name === 'column') plausible.push(fc.constantFrom('color', 'parity', 'group', 'tags', 'x', 'y', 'name', 'temperature', '__proto__', 'constructor', 'a.b'));
  if (name === 'first_eight') plausible.push(known.ids.length > 0 ? fc.constantFrom(...known.ids.map((id) => id.slice(0, 8))) : hex(8, 8));
  if (name === 'role') plausible.push(fc.constantFrom('user', 'admin', 'service', '__proto__'));
  if (name === 'api_key') plausible.push(hex(0, 64));
  const raw = fc.oneof(
    { weight: 6, arbitrary: fc.oneof(...plausible) },
    { weight: 2, arbitrary: jsonishValue.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null', 'NaN', 'Infinity', '-1', '1e309', '[', '{', '"', '\\', '[]', '{}') },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 6000 }).map((n) => 'x'.repeat(n)) },
  );
  return encoded(raw);
}

const FILTER_VALUE = fc.oneof(
  { weight: 4, arbitrary: jsonishValue.map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 2, arbitrary: fc.constantFrom('"color"', '"index"', '"tags"', '["xdi"]', '"red"', '3', '"lt"', '"gt"', 'true', '"%"', '"_"', '"(a+)+$"', '"^(a|a)*$"', '"x*y*z*"') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

/** `filter[NAME][condition][FIELD]=VALUE` groups: real filter names and fields, and prototype-named ones. */
const FILTER_PARAMS: fc.Arbitrary<[string, string][]> = fc.oneof(
  ...[...QUERY_FIELDS.keys(), '__proto__', 'constructor', 'toString', 'nope', ''].map((filter) => {
    const fields = QUERY_FIELDS.get(filter) ?? ['key', 'value'];
    const field = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...fields) }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', '') });
    const weight = QUERY_FIELDS.has(filter) ? 4 : 1;
    return { weight, arbitrary: fc.array(fc.tuple(field, encoded(FILTER_VALUE)).map(([f, v]): [string, string] => [escapeName(`filter[${filter}][condition][${f}]`), v]), { minLength: 1, maxLength: 5 }) };
  }),
);

const queryValues = new Map<string, fc.Arbitrary<string>>();

/** Built once per name: fast-check's generation cost is mostly building arbitraries. */
function cachedQueryValue(name: string, known: KnownValues): fc.Arbitrary<string> {
  let values = queryValues.get(name);
  if (!values) {
    values = queryValue(name, known);
    queryValues.set(name, values);
  }
  return values;
}

function queryFor(template: string, known: KnownValues): fc.Arbitrary<[string, string][]> {
  const names = [...COMMON_PARAMS];
  for (const [pattern, params] of ROUTE_PARAMS) if (pattern.test(template)) names.push(...params);
  const named = (name: string): fc.Arbitrary<[string, string]> => cachedQueryValue(name, known).map((value): [string, string] => [escapeName(name), value]);
  const pair = fc.oneof(
    { weight: 8, arbitrary: fc.oneof(...names.map(named)) },
    { weight: 2, arbitrary: fc.oneof(...NASTY_NAMES.map(named)) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), cachedQueryValue('', known)).map(([name, value]): [string, string] => [encodeURIComponent(name), value]) },
  );
  const plain = fc.array(pair, { maxLength: 6 });
  const repeated = fc.tuple(pair, fc.integer({ min: 2, max: 50 })).map(([p, n]) => Array.from({ length: n }, () => p));
  return /\/(search|distinct)/.test(template)
    ? fc.oneof({ weight: 3, arbitrary: plain }, { weight: 3, arbitrary: fc.tuple(plain, FILTER_PARAMS).map(([a, b]) => [...a, ...b]) }, { weight: 1, arbitrary: repeated })
    : fc.oneof({ weight: 5, arbitrary: plain }, { weight: 1, arbitrary: repeated });
}

function jsonNest(depth: number, open: string, close: string, leaf = '1'): string {
  return open.repeat(depth) + leaf + close.repeat(depth);
}

function bodyFor(template: string, known: KnownValues): fc.Arbitrary<FuzzBody | undefined> {
  const contentType = fc.constantFrom(...CONTENT_TYPES);
  const json = (kind: string, value: fc.Arbitrary<unknown>): fc.Arbitrary<FuzzBody> =>
    value.map((v) => ({ contentType: 'application/json', kind, bytes: Buffer.from(JSON.stringify(v) ?? 'null') }));
  const plausible: fc.Arbitrary<FuzzBody>[] = [];
  if (/apikey/.test(template)) {
    plausible.push(
      json(
        'api-key request',
        fc.record(
          {
            expires_in: fc.oneof(fc.constant(null), fc.integer({ min: -10, max: 1e9 }), fc.double(), fc.string({ maxLength: 5 })),
            scopes: fc.oneof(fc.constant(null), fc.array(fc.constantFrom('inherit', 'read:metadata', 'read:data', 'admin:apikeys', 'nope', '__proto__'), { maxLength: 4 }), fc.string()),
            note: fc.oneof(fc.constant(null), fc.string({ maxLength: 40 }), fc.integer({ min: 1000, max: 5000 }).map((n) => 'n'.repeat(n))),
            access_tags: fc.oneof(fc.constant(null), fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 })),
          },
          { requiredKeys: [] },
        ),
      ),
    );
  }
  if (/session/.test(template)) {
    const token = fc.oneof(fc.constantFrom(...(known.spareRefreshTokens.length > 0 ? known.spareRefreshTokens : ['x'])), fc.string({ maxLength: 40 }), fc.constant('eyJhbGciOiJIUzI1NiJ9.e30.x'));
    plausible.push(json('refresh request', fc.record({ refresh_token: fc.oneof(token, fc.integer(), fc.constant(null)) }, { requiredKeys: [] })));
  }
  if (/\/token$|device_code|authorize/.test(template)) {
    const form = fc
      .record(
        {
          username: fc.oneof(fc.constantFrom(...known.usernames), fc.string({ maxLength: 10 })),
          password: fc.oneof(fc.constantFrom(...known.passwords), fc.string({ maxLength: 10 })),
          grant_type: fc.constantFrom('password', 'device_code', 'x'),
          device_code: fc.string({ maxLength: 20 }),
          code: fc.string({ maxLength: 10 }),
        },
        { requiredKeys: [] },
      )
      .map((fields) => {
        const pairs = Object.entries(fields).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
        return { contentType: 'application/x-www-form-urlencoded', kind: 'login form', bytes: Buffer.from(pairs.join('&')) };
      });
    plausible.push(form, json('device poll', fc.record({ device_code: fc.string({ maxLength: 20 }) }, { requiredKeys: [] })));
  }
  if (/\/(table|container|node)\//.test(template)) plausible.push(json('field list', fc.array(fc.constantFrom('x', 'y', 'name', 'index', 'temperature', '__proto__', ''), { maxLength: 6 })));
  const generic: fc.Arbitrary<FuzzBody>[] = [
    json('random JSON', fc.jsonValue({ maxDepth: 4 })),
    fc.tuple(contentType, fc.jsonValue({ maxDepth: 3 })).map(([ct, v]) => ({ contentType: ct, kind: 'JSON, any content type', bytes: Buffer.from(JSON.stringify(v) ?? 'null') })),
    fc.tuple(contentType, fc.string({ maxLength: 60 })).map(([ct, s]) => ({ contentType: ct, kind: 'text', bytes: Buffer.from(s) })),
    fc.tuple(contentType, fc.uint8Array({ maxLength: 200 })).map(([ct, b]) => ({ contentType: ct, kind: 'bytes', bytes: Buffer.from(b) })),
    fc.jsonValue({ maxDepth: 2 }).map((v) => {
      const text = JSON.stringify(v) ?? 'null';
      return { contentType: 'application/json', kind: 'truncated JSON', bytes: Buffer.from(text.slice(0, Math.max(0, text.length - 1)) + '{') };
    }),
    fc.constantFrom('{', '[', '{"a":', 'nul', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '"\\ud800"', '[1,]', '\u0000', '{"a":1}{"b":2}').map((text) => ({ contentType: 'application/json', kind: 'invalid JSON', bytes: Buffer.from(text) })),
    fc.tuple(fc.integer({ min: 100, max: 5000 }), fc.constantFrom(['[', ']'], ['{"a":', '}'])).map(([depth, [open, close]]) => ({ contentType: 'application/json', kind: `JSON nested ${depth} deep`, bytes: Buffer.from(jsonNest(depth, open, close)) })),
    fc.jsonValue({ maxDepth: 3 }).map((v) => ({ contentType: 'application/x-msgpack', kind: 'msgpack', bytes: Buffer.from(encodeMsgpack(v)) })),
    fc.array(fc.tuple(fc.constantFrom(...NASTY_NAMES, 'a', 'b'), fc.string({ maxLength: 8 })), { maxLength: 6 }).map((pairs) => ({
      contentType: 'application/x-www-form-urlencoded',
      kind: 'form',
      bytes: Buffer.from(pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')),
    })),
    fc.integer({ min: 20_000, max: 200_000 }).map((n) => ({ contentType: 'application/json', kind: `JSON string of ${n} bytes`, bytes: Buffer.from(JSON.stringify('s'.repeat(n))) })),
    fc.integer({ min: 1000, max: 10_000 }).map((n) => ({ contentType: 'application/json', kind: `JSON list of ${n} strings`, bytes: Buffer.from(JSON.stringify(Array.from({ length: n }, (_, i) => `c${i}`))) })),
  ];
  // Megabytes each: about one body in a thousand, or the run is spent generating and parsing them.
  const huge: fc.Arbitrary<FuzzBody>[] = [
    fc.integer({ min: 100_000, max: 500_000 }).map((n) => ({ contentType: 'application/json', kind: `JSON list of ${n} strings`, bytes: Buffer.from(JSON.stringify(Array.from({ length: n }, (_, i) => `c${i}`))) })),
    fc.integer({ min: 1, max: 9 }).map((n) => ({ contentType: 'application/json', kind: `JSON string of ${n} MiB`, bytes: Buffer.from(JSON.stringify('s'.repeat(n * 1024 * 1024))) })),
  ];
  return fc.oneof(
    { weight: 300, arbitrary: fc.constant(undefined) },
    ...(plausible.length > 0 ? [{ weight: 400, arbitrary: fc.oneof(...plausible) }] : []),
    { weight: 300, arbitrary: fc.oneof(...generic) },
    { weight: 1, arbitrary: fc.oneof(...huge) },
  );
}

const JUNK_AUTH = [
  'Apikey',
  'Apikey ',
  'Apikey  ',
  'apikey x',
  'APIKEY 00',
  'Apikey a b c',
  'Bearer',
  'Bearer ',
  'Bearer a.b',
  'Bearer ...',
  'Bearer eyJ',
  'Basic YWxpY2U6c2VjcmV0',
  'Digest x',
  'Token abc',
  ',',
  'Apikey ' + 'f'.repeat(5000),
  'Bearer ' + 'e'.repeat(5000),
];

function junkJwt(): fc.Arbitrary<string> {
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value) ?? '').toString('base64url');
  return fc
    .tuple(
      fc.oneof(fc.constant({ alg: 'HS256', typ: 'JWT' }), fc.constant({ alg: 'none' }), fc.constant({ alg: 'RS256' }), fc.jsonValue({ maxDepth: 1 })),
      fc.oneof(fc.record({ sub: fc.string(), exp: fc.integer(), type: fc.constantFrom('access', 'refresh') }), fc.jsonValue({ maxDepth: 2 })),
      fc.base64String({ maxLength: 44 }),
    )
    .map(([header, payload, signature]) => `${b64(header)}.${b64(payload)}.${signature.replace(/=+$/, '')}`);
}

/** Header values Node's client will send (no CR/LF, Latin-1). */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });

export const HEADERS: fc.Arbitrary<[string, string][]> = headersFor();

function headersFor(): fc.Arbitrary<[string, string][]> {
  const extra = fc.oneof(
    fc.constantFrom(...ACCEPTS).map((v): [string, string] => ['accept', v]),
    fc.constantFrom(...ENCODINGS).map((v): [string, string] => ['accept-encoding', v]),
    fc.oneof(fc.constant('*'), fc.constant('"x"'), fc.constant('W/"0"'), headerText).map((v): [string, string] => ['if-none-match', v]),
    fc.oneof(fc.constant('https://evil.example'), fc.constant('null'), headerText).map((v): [string, string] => ['origin', v]),
    fc.oneof(fc.constant('evil.example'), fc.constant('localhost:1'), fc.constant('[::1]'), fc.constant(''), headerText).map((v): [string, string] => ['host', v]),
    fc.oneof(fc.constant('bytes=0-10'), fc.constant('bytes=-1'), headerText).map((v): [string, string] => ['range', v]),
    fc.oneof(fc.constant('1.2.3.4'), fc.constant('unknown, ::1'), headerText).map((v): [string, string] => ['x-forwarded-for', v]),
    fc.oneof(fc.constant('https'), headerText).map((v): [string, string] => ['x-forwarded-proto', v]),
    fc.oneof(fc.constant('tiled_refresh_token=x'), fc.constant('__proto__=1; constructor=2'), fc.constant('a'), fc.constant('=; =;'), headerText).map((v): [string, string] => ['cookie', v]),
    fc.tuple(fc.constantFrom('x-csrf-token', 'x-requested-with', 'user-agent', 'referer', 'x-tiled-api-version'), headerText),
  );
  return fc.array(extra, { maxLength: 4 });
}

const CREDENTIALS_SINGLE: CredentialKind[] = ['none', 'valid-key', 'wrong-key', 'junk-jwt', 'malformed'];
const CREDENTIALS_MULTI: CredentialKind[] = [
  'none',
  'valid-key',
  'valid-admin-key',
  'wrong-key',
  'expired-key',
  'revoked-key',
  'valid-token',
  'valid-admin-token',
  'expired-token',
  'foreign-token',
  'junk-jwt',
  'malformed',
];

const OTHER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

/** A request against one of `routes`, in one of the credential shapes the mode has. */
export function fuzzRequest(mode: Mode, routes: RouteTemplate[], known: KnownValues): fc.Arbitrary<FuzzRequest> {
  const credentials = mode === 'single-user' ? CREDENTIALS_SINGLE : CREDENTIALS_MULTI;
  return fc.oneof(
    ...routes.map((route) =>
    fc
      .record({
        method: fc.oneof({ weight: 9, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS) }),
        path: pathFor(route.path, known),
        query: queryFor(route.path, known),
        headers: HEADERS,
        credential: fc.constantFrom(...credentials),
        keyPlace: fc.constantFrom<KeyPlace>('header', 'header', 'query', 'cookie'),
        malformed: fc.constantFrom(...JUNK_AUTH),
        jwt: junkJwt(),
        body: route.method === 'GET' || route.method === 'DELETE' ? fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: bodyFor(route.path, known) }) : bodyFor(route.path, known),
      })
      .map(({ malformed, jwt, ...request }): FuzzRequest => {
        const headers = [...request.headers];
        if (request.credential === 'junk-jwt') headers.push(['authorization', `Bearer ${jwt}`]);
        if (request.credential === 'malformed') headers.push(['authorization', malformed]);
        return { route: `${route.method} ${route.path}`, ...request, headers };
      }),
    ),
  );
}
