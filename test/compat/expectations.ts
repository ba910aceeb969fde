import { Exchange } from './capture';
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
  '07-session-refresh-revoke-logout.txt',
  '08-admin-principals.txt',
  '09-search.txt',
  '10-arrays.txt',
  '11-tables.txt',
  '12-device-code-authorize.txt',
  '13-csrf-cookies.txt',
];

/** Waits the recording also made (the 1-second key is used after 2.5 s). */
export const PAUSE_BEFORE: Record<string, number> = { '1-second key used after 2.5 s (expired)': 2500 };

/** Sessions whose ids the recording got outside the capture (07 names bob's in a path): ours is a fresh login. */
export const SESSIONS_BEFORE: Record<string, { capturedSid: string; user: string }> = {
  "DELETE /auth/session/revoke/{session_id} by another user (alice revoking bob's)": { capturedSid: '1c0c3a1a89d74bb5bb4571651569abf0', user: 'bob' },
};

/**
 * After these exchanges our session of the user is revoked (07 revokes alice's by refresh token).
 * Tiled's access tokens outlive their session, so the capture keeps using alice's; ours log in again.
 */
export const FORGET_AFTER: Record<string, string> = { 'access token still valid after session revoke? (metadata)': 'alice' };

const NOT_AUTHENTICATED: KnownDifference = {
  status: 401,
  detail: 'Not authenticated',
  reason: 'the API-keys guide promises 401 "Not authenticated" to a request without credentials; Tiled says "Not enough permissions…"',
};

/** We advertise only the formats we serve, and add our own version to `meta`. */
const ABOUT: KnownDifference = {
  ignore: /^body\.(formats|aliases)|^body\.meta: extra keys server, tiled_ts_version$/,
  reason: 'about lists only the media types tiled-ts can encode; meta also names tiled-ts and its version',
};

/**
 * Lists of sessions and keys in whoami: a refused negative-expiry key is missing, expired keys are
 * hidden, and the logins the replay makes for tokens minted outside the capture add sessions.
 */
const WHOAMI_LISTS: KnownDifference = {
  ignore: /^body\.(sessions|api_keys)/,
  reason: 'whoami lists differ because of earlier deliberate differences (negative expires_in refused, expired keys hidden) and the replay\'s own logins',
};

/** Tiled crashed (500, text/plain, no cookie); ours answers a clean 4xx. */
function insteadOfCrash(status: number, detail: unknown, reason: string): KnownDifference {
  return { status, detail, ignore: /^(set-cookie tiled_csrf|x-tiled-root|www-authenticate)/, reason };
}

/** The admin role holds every scope of the registry (Tiled's lacks create:apikeys and revoke:apikeys). */
const ADMIN_ROLE: KnownDifference = {
  ignore: /^body(\[\d+\])?\.roles\[\d+\]\.scopes/,
  reason: "the admin role holds every scope, so an admin can manage its own keys (Tiled's admin lacks create/revoke:apikeys)",
};


const TRAILING_SLASH: KnownDifference = {
  ignore: /^(status: expected 307, got 200|etag: |expires: |location: )/,
  reason: 'routes are matched with ignoreTrailingSlash, so /api/v1 and /search answer directly instead of a 307 to the slashed URL',
};

/** Keyed by `<file> <title>`. Each is explained in docs/compatibility.md. */
export const KNOWN_DIFFERENCES: Record<string, KnownDifference> = {
  '01-about.txt GET /api/v1/ unauthenticated': ABOUT,
  '01-about.txt GET /api/v1 (no trailing slash)': { ...TRAILING_SLASH, ignore: /^(status: expected 307, got 200|etag: |expires: |location: |body)/ },
  '01-about.txt GET / (server root)': {
    status: 404,
    detail: 'Not Found',
    reason: 'tiled-ts has no web UI at the server root; the Python client only logs that GET and carries on to /api/v1/',
  },
  '01-about.txt GET /api/v1/ with Bearer access token (alice)': ABOUT,
  '01-about.txt GET /api/v1/ with If-None-Match = previous ETag': ABOUT,
  '03-whoami.txt whoami Bearer (alice)': WHOAMI_LISTS,
  '03-whoami.txt whoami Bearer with refresh token instead of access token': {
    status: 401,
    detail: 'Could not validate credentials',
    ignore: /^(set-cookie tiled_csrf|www-authenticate)/,
    reason: 'Tiled crashes (500) on a refresh token used as a bearer token; tiled-ts refuses it with 401',
  },
  '04-apikeys.txt create key: scopes the user lacks ([admin:apikeys])': {
    ignore: /^body\.detail: expected "Requested scopes \['admin:apikeys'\] must be a subset of the principal's scopes/,
    reason: "the principal's scopes are a Python set in Tiled's message, printed in hash order; ours are in role order",
  },
  '04-apikeys.txt create key: unknown scope string': {
    ignore: /^body\.detail: expected "Requested scopes \['read:everything'\] must be a subset of the principal's scopes/,
    reason: "the principal's scopes are a Python set in Tiled's message, printed in hash order; ours are in role order",
  },
  '04-apikeys.txt create key: empty body {}': {
    status: 200,
    ignore: /^etag: /,
    reason: 'expires_in and scopes default to null (no expiry, inherit) instead of being required fields; clients always send both',
  },
  '04-apikeys.txt create key: negative expires_in (accepted?)': {
    status: 422,
    ignore: /^etag: /,
    reason: 'a negative expires_in is refused (422) rather than creating a key that is already expired',
  },
  '04-apikeys.txt create key: invalid JSON': {
    status: 400,
    detail: "Body is not valid JSON but content-type is set to 'application/json'",
    reason: "malformed JSON is a 400 from the body parser, not FastAPI's 422 json_invalid list",
  },
  '04-apikeys.txt create key: no Content-Type header (raw JSON body)': {
    status: 415,
    detail: 'Unsupported Media Type',
    ignore: /^etag: /,
    reason: 'a body without a Content-Type is refused; Tiled parses it as JSON. Every client sends the header',
  },
  '04-apikeys.txt create key: unauthenticated': NOT_AUTHENTICATED,
  '04-apikeys.txt whoami with the inherit key (shows api_keys list)': WHOAMI_LISTS,
  '04-apikeys.txt DELETE unauthenticated': NOT_AUTHENTICATED,
  '05-metadata-authn.txt metadata unauthenticated': NOT_AUTHENTICATED,
  '05-metadata-authn.txt metadata both Apikey query and Bearer header (query wins?)': {
    ignore: /^set-cookie tiled_api_key: expected tiled_api_key=0011/,
    reason: 'an invalid ?api_key= is not remembered as a cookie (it would only make later browser requests fail too)',
  },
  '05-metadata-authn.txt metadata of missing path (unauthenticated)': NOT_AUTHENTICATED,
  '07-session-refresh-revoke-logout.txt refresh with an ACCESS token in place of the refresh token': insteadOfCrash(
    401,
    'Could not validate credentials',
    'Tiled crashes (500) on an access token where a refresh token belongs; tiled-ts refuses it like any invalid refresh token',
  ),
  '07-session-refresh-revoke-logout.txt whoami with new access token (session refresh_count)': WHOAMI_LISTS,
  '07-session-refresh-revoke-logout.txt access token still valid after session revoke? (metadata)': {
    status: 401,
    detail: 'Session has been revoked. Please re-authenticate.',
    ignore: /^(www-authenticate: expected undefined, got Bearer|etag: expected present, got absent)$/,
    reason: "a revoked session's access tokens stop at once; in Tiled they keep working until they expire",
  },
  '07-session-refresh-revoke-logout.txt DELETE /auth/session/revoke/{session_id} unauthenticated': insteadOfCrash(
    401,
    'Not authenticated',
    'Tiled crashes (500) on an unauthenticated revoke by id; tiled-ts answers 401 like every route that needs a principal',
  ),
  '08-admin-principals.txt whoami admin': ADMIN_ROLE,
  '08-admin-principals.txt GET /auth/principal as admin': { ...ADMIN_ROLE, ignore: /^body\[\d+\]\.(roles\[\d+\]\.scopes|sessions|api_keys)/ },
  '08-admin-principals.txt GET /auth/principal with pagination page[offset]=1&page[limit]=1': {
    ignore: /^body\[\d+\]\.(sessions|api_keys)/,
    reason: 'the listed principal\'s sessions and keys differ because of earlier deliberate differences (negative expires_in refused, replay logins)',
  },
  '08-admin-principals.txt GET /auth/principal as alice (not admin)': {
    ignore: /^body\.detail: expected "Not enough permissions\. Requires scopes \['read:principals'\]\. Request had scopes \[/,
    reason: "the request's scopes are a Python set in Tiled's message, printed in hash order; ours are in role order",
  },
  '08-admin-principals.txt POST /auth/principal as alice': {
    ignore: /^body\.detail: expected "Not enough permissions\. Requires scopes \['write:principals'\]\. Request had scopes \[/,
    reason: "the request's scopes are a Python set in Tiled's message, printed in hash order; ours are in role order",
  },
  '08-admin-principals.txt POST /auth/principal?role=admin': ADMIN_ROLE,
  '08-admin-principals.txt POST /auth/principal?role=nonexistent': insteadOfCrash(
    422,
    [{ type: 'value_error', loc: ['query', 'role'], msg: "Role 'nonexistent' does not exist", input: 'nonexistent' }],
    'Tiled crashes (500) on an unknown role; tiled-ts names the bad query parameter in a FastAPI-shaped 422',
  ),
  '08-admin-principals.txt POST /auth/principal/{uuid}/apikey with scopes beyond role': {
    ignore: /^body\.detail: expected "Requested scopes \['admin:apikeys'\] must be a subset of the principal's scopes/,
    reason: "the principal's scopes are a Python set in Tiled's message, printed in hash order; ours are in role order and name what is missing",
  },
  '09-search.txt search unauthenticated': NOT_AUTHENTICATED,
  '09-search.txt search without trailing slash (/search)': { ...TRAILING_SLASH, ignore: /^(status: expected 307, got 200|etag: |expires: |location: |body)/ },
  '10-arrays.txt array/full/small unsupported Accept (image/gif)': {
    ignore: /^body\.detail: expected "None of the media types requested by the client are supported\. Supported: text\/x-comma-separated-values, application\/vnd\.ms-excel, image\/png/,
    reason: 'the 406 lists the array media types in the encoder table\'s order (Tiled: Python set order), with NPY added',
  },
  '10-arrays.txt array/full/small unauthenticated': NOT_AUTHENTICATED,
  '10-arrays.txt array/full/small expected_shape=5,5 (mismatch)': {
    status: 400,
    detail: 'The shape expected from the structure (5, 5) does not match the actual data shape (10, 10)',
    reason: 'Tiled answers 500 (upstream bug); a wrong expected_shape is the caller\'s error, so 400',
  },
  "12-device-code-authorize.txt GET /api/v1/docs (404, although the about document's links.documentation points here)": {
    ignore: /^(status: expected 404, got 200|content-type: |body)/,
    reason: "the about document's documentation link serves the interactive reference (Swagger UI), which Tiled serves only at /docs",
  },
  '12-device-code-authorize.txt CORS preflight OPTIONS /api/v1/metadata/': {
    status: 404,
    detail: 'Not Found',
    ignore: /^(x-tiled-root|www-authenticate)/,
    reason: 'the reference config lists no allow_origins; tiled-ts then installs no CORS hook, so a preflight finds no route (404) where Tiled answers 400 "Disallowed CORS origin": the browser refuses either way',
  },
  '12-device-code-authorize.txt GET /api/v1/metrics': NOT_AUTHENTICATED,
  '13-csrf-cookies.txt GET with tiled_api_key cookie (safe method, no CSRF needed)': WHOAMI_LISTS,
  '13-csrf-cookies.txt POST with cookies + matching ?csrf= query parameter': {
    status: 200,
    ignore: /^etag: /,
    reason: 'Tiled crashes (500) when the CSRF token comes as ?csrf=; tiled-ts accepts it like the x-csrf header',
  },
};

/** Statuses, headers and document shape are compared; which nodes the demo holds is not. */
const DEMO_TREE: KnownDifference = {
  ignore: /^body\.(data(\[\d+\]\.(id|attributes\.structure_family|links)|\.attributes\.(metadata|structure\.count))|meta\.count)/,
  reason: "`tiled serve demo` serves tiled-ts's own demo tree (docs/catalog.md), not Tiled's generated example tree",
};

/** Keyed by `<file> <title>` or by title for all single-user files. */
export const SINGLE_USER_KNOWN_DIFFERENCES: Record<string, KnownDifference> = {
  'about (no key)': ABOUT,
  '20-single-user-pyobject.txt metadata/ no key': NOT_AUTHENTICATED,
  '20-single-user-pyobject.txt array/full no key': NOT_AUTHENTICATED,
  '21-single-user-fixed-key.txt metadata/ no key': NOT_AUTHENTICATED,
  '21-single-user-fixed-key.txt array/full no key': NOT_AUTHENTICATED,
  '24-serve-demo.txt about': ABOUT,
  '24-serve-demo.txt search/ page[limit]=3, fields=structure_family (no key)': DEMO_TREE,
  '24-serve-demo.txt metadata/ with key': DEMO_TREE,
  '24-serve-catalog.txt about': ABOUT,
  '24-serve-catalog.txt search/ page[limit]=3, fields=structure_family (no key)': NOT_AUTHENTICATED,
  '23-single-user-generated-minimal.txt metadata/ no key': NOT_AUTHENTICATED,
  '23-single-user-generated-minimal.txt array/full no key': NOT_AUTHENTICATED,
};

/** Keyed by `<file> <title>` (`#N`) or by title for both Python-client sessions. */
export const PYTHON_CLIENT_KNOWN_DIFFERENCES: Record<string, KnownDifference> = {
  '#1': {
    status: 404,
    detail: 'Not Found',
    reason: 'GET / comes from the driving script (User-Agent python-httpx, not python-tiled); tiled-ts has no HTML page at the root',
  },
  '#2': ABOUT,
};

/** The Tiled CLI opens every command with `GET /` (to find the API) and the about document. */
export function cliHttpKnownDifference(exchange: Exchange): KnownDifference | undefined {
  const { method, target } = exchange.request;
  if (method === 'GET' && target === '/') {
    return { status: 404, detail: 'Not Found', reason: 'tiled-ts has no HTML page at the root; the client only logs that GET and carries on to /api/v1/' };
  }
  if (method === 'GET' && target === '/api/v1/') return ABOUT;
  if (method === 'POST' && target === '/api/v1/auth/apikey' && exchange.response.status === 403) {
    return {
      ignore: /^body\.detail: expected "Requested scopes \['admin:apikeys'\] must be a subset of the principal's scopes/,
      reason: "the principal's scopes are a Python set in Tiled's message, printed in hash order; ours are in role order and name what is missing",
    };
  }
  return undefined;
}

/** 32 #68: `TILED_API_KEY=<a fresh inherit-scope key of cara, made with curl>` (31-cli-session), made just before. */
export const CLI_KEYS_MADE_OUTSIDE: Record<string, { user: string; note: string }> = { '#68': { user: 'cara', note: 'env key' } };

