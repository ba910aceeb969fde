import { decode as msgpackDecode } from '@msgpack/msgpack';
import { detailText, NotAuthenticatedError, TiledClientError } from './errors';
import { parseTimeString } from './time';
import { Tokens, TokenCache } from './token-cache';

const MSGPACK = 'application/x-msgpack';
const JSON_TYPE = 'application/json';
const USER_AGENT = 'tiled-ts-client/0.1.0';

/** An authentication provider as the about document describes it (see 01-about.txt). */
export interface AuthProvider {
  provider: string;
  mode: 'internal' | 'external' | 'password';
  links: { auth_endpoint: string; [key: string]: string };
  confirmation_message?: string | null;
}

export interface AboutDocument {
  api_version: number;
  library_version: string;
  formats: Record<string, string[]>;
  queries: string[];
  authentication: {
    required: boolean;
    providers: AuthProvider[];
    links: {
      whoami: string;
      apikey: string;
      refresh_session: string;
      revoke_session: string;
      logout: string;
    } | null;
  };
  links: Record<string, string>;
  meta: Record<string, unknown>;
}

export interface ApiKeyInfo {
  first_eight: string;
  expiration_time: Date | string | null;
  latest_activity: Date | string | null;
  note: string | null;
  scopes: string[];
  access_tags: string[] | null;
  /** tiled-ts: the subtree the key is bound to (absent from Tiled servers). */
  path?: string | null;
}

export interface ApiKeyWithSecret extends ApiKeyInfo {
  secret: string;
}

export interface Principal {
  uuid: string;
  type: 'user' | 'service';
  identities: { id: string; provider: string; latest_login?: Date | string | null }[];
  roles: { name: string; scopes: string[] }[];
  api_keys: ApiKeyInfo[];
  sessions: { uuid: string; expiration_time: Date | string; revoked: boolean }[];
  latest_activity?: Date | string | null;
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in?: number;
  refresh_token_expires_in?: number;
  token_type?: string;
  identity?: { id: string; provider: string };
  principal?: string;
}

export interface CreateApiKeyOptions {
  scopes?: string[] | null;
  /** Seconds, or a Tiled time string such as `10m`, `3d`, `1y`. */
  expiresIn?: number | string | null;
  note?: string | null;
  accessTags?: string[] | null;
  /** tiled-ts: bind the key to this subtree (`/beamline/2026-03`). Sent only when set, so Tiled servers see Tiled's body. */
  path?: string | null;
}

/** `GET /api/v1/auth/explain`'s answer (docs/access-control.md). */
export interface Explanation {
  path: string;
  scope: string;
  allowed: boolean;
  decided_by: string;
  reason: string;
  layers: { layer: string; outcome: 'allowed' | 'refused'; detail: string }[];
}

export interface ContextOptions {
  /** Explicit API key; else `?api_key=` in the URI; else `TILED_API_KEY`. */
  apiKey?: string;
  /** Persist tokens in the user's cache directory (default true), as Tiled's `remember_me`. */
  rememberMe?: boolean;
  /** Base directory of the token cache (default `$TILED_CACHE_DIR/tokens`). */
  tokenCacheDir?: string;
  headers?: Record<string, string>;
}

export interface RequestOptions {
  query?: URLSearchParams | Record<string, string | string[] | undefined>;
  json?: unknown;
  form?: Record<string, string>;
  /** Raw bytes with their content type (array data, Arrow files). */
  bytes?: { data: Uint8Array; type: string };
  accept?: string;
  headers?: Record<string, string>;
  /** false: send no credentials (refresh/revoke carry their own proof). */
  authenticate?: boolean;
}

const KEY_PATH_UNSUPPORTED =
  'This server ignored the key\'s path (binding a key to a subtree is a tiled-ts feature): the key it created reached the whole catalog, so it was revoked.';
const SINGLE_USER_NO_KEYS =
  'This Tiled server is deployed as a single-user server. Unlike multi-user servers, it has a single, static API key and does not support generating additional API keys.';

/** Split a user-facing URI into the API base (`…/api/v1/`), the node path under it, and an API key in its query. */
export function parseTiledUri(uri: string): { apiUri: string; path: string[]; apiKey?: string } {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new TiledClientError(0, `'${uri}' is not a URL; expected something like http://localhost:8000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TiledClientError(0, `'${uri}' must start with http:// or https://`);
  const apiKey = url.searchParams.get('api_key') ?? undefined;
  const segments = url.pathname.split('/').filter(Boolean);
  const apiAt = segments.findIndex((segment, i) => segment === 'api' && segments[i + 1] === 'v1');
  let prefix: string[];
  let path: string[] = [];
  if (apiAt >= 0) {
    prefix = segments.slice(0, apiAt);
    const rest = segments.slice(apiAt + 2);
    if (rest[0] === 'metadata') path = rest.slice(1).map(decodeURIComponent);
  } else if (segments[segments.length - 1] === 'api') {
    prefix = segments.slice(0, -1);
  } else {
    prefix = segments;
  }
  const base = `${url.protocol}//${url.host}${prefix.length ? `/${prefix.join('/')}` : ''}`;
  return { apiUri: `${base}/api/v1/`, path, apiKey };
}

/**
 * One connection to a Tiled server: credentials, cookies, the about document. Everything that
 * talks HTTP goes through `request`, which handles API keys, bearer tokens and their refresh.
 */
export class Context {
  readonly apiUri: string;
  private apiKey?: string;
  private tokens: Tokens = {};
  private readonly cookies = new Map<string, string>();
  private readonly tokenCache?: TokenCache;
  private aboutDocument?: AboutDocument;
  private readonly extraHeaders: Record<string, string>;
  private refreshing?: Promise<void>;

  constructor(uri: string, options: ContextOptions = {}) {
    const parsed = parseTiledUri(uri);
    this.apiUri = parsed.apiUri;
    this.apiKey = options.apiKey ?? parsed.apiKey ?? (process.env.TILED_API_KEY || undefined);
    this.extraHeaders = options.headers ?? {};
    if (options.rememberMe !== false) this.tokenCache = new TokenCache(this.apiUri, options.tokenCacheDir);
  }

  /** Build a context and fetch the about document (which also obtains the tiled_csrf cookie). */
  static async connect(uri: string, options: ContextOptions = {}): Promise<Context> {
    const context = new Context(uri, options);
    await context.about();
    return context;
  }

  get usingApiKey(): boolean {
    return this.apiKey !== undefined;
  }

  get hasTokens(): boolean {
    return Boolean(this.tokens.access_token || this.tokens.refresh_token);
  }

  get tokenDirectory(): string | undefined {
    return this.tokenCache?.directory;
  }

  async about(refresh = false): Promise<AboutDocument> {
    if (!this.aboutDocument || refresh) {
      this.aboutDocument = (await this.fetchDocument('GET', this.apiUri, {
        authenticate: false,
        accept: MSGPACK,
        headers: { 'cache-control': 'no-cache, no-store' },
      })) as AboutDocument;
    }
    return this.aboutDocument;
  }

  /** Use tokens saved by an earlier login, if there are any. Returns whether some were found. */
  useCachedTokens(): boolean {
    if (this.apiKey !== undefined || !this.tokenCache) return false;
    this.tokens = this.tokenCache.read();
    return this.hasTokens;
  }

  /** Adopt tokens (e.g. from `passwordGrant`) and remember them if this context persists tokens. */
  setTokens(tokens: Tokens): void {
    if (this.apiKey !== undefined) throw new TiledClientError(0, 'An API key is set. Cannot use both API key and OAuth2 authentication.');
    this.tokens = { access_token: tokens.access_token, refresh_token: tokens.refresh_token };
    this.tokenCache?.write(this.tokens);
  }

  async providers(): Promise<AuthProvider[]> {
    return (await this.about()).authentication.providers ?? [];
  }

  /** Log in with a username and password at an internal provider (OAuth2 password grant form). */
  async login(username: string, password: string, providerName?: string): Promise<TokenResponse> {
    const providers = await this.providers();
    if (!providers.length) throw new TiledClientError(0, 'This server has no authentication providers; it is a single-user or public server.');
    const provider = providerName ? providers.find((p) => p.provider === providerName) : providers[0];
    if (!provider) {
      throw new TiledClientError(0, `No provider named '${providerName}'. Choose one of: ${providers.map((p) => p.provider).join(', ')}`);
    }
    if (provider.mode === 'external') {
      throw new TiledClientError(0, `Provider '${provider.provider}' logs in through a browser; tiled-ts does not support that flow yet.`);
    }
    const tokens = (await this.fetchDocument('POST', provider.links.auth_endpoint, {
      form: { grant_type: 'password', username, password },
      accept: JSON_TYPE,
      authenticate: false,
    })) as TokenResponse;
    this.setTokens(tokens);
    return tokens;
  }

  /**
   * Exchange the refresh token for new tokens. The server rotates refresh tokens, so the new one
   * is saved at once; the cache is re-read first because another process may have rotated it.
   */
  async refresh(): Promise<void> {
    // Concurrent requests that all hit an expired token must share one refresh: the server rotates
    // refresh tokens and treats a reused one as theft, ending the session.
    this.refreshing ??= this.doRefresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    const links = (await this.about()).authentication.links;
    if (this.tokenCache) {
      const cached = this.tokenCache.read();
      if (cached.refresh_token) this.tokens.refresh_token = cached.refresh_token;
    }
    if (!links || !this.tokens.refresh_token) throw new NotAuthenticatedError();
    const response = await this.send('POST', links.refresh_session, {
      json: { refresh_token: this.tokens.refresh_token },
      authenticate: false,
      accept: JSON_TYPE,
    });
    if (response.status === 401 || response.status === 400) {
      this.tokens = {};
      this.tokenCache?.clearRefreshToken();
      throw new NotAuthenticatedError('Your session has expired. Log in again with `tiled login`.');
    }
    const body = (await this.decode(response)) as TokenResponse;
    if (!response.ok) throw this.errorFrom(response, body);
    this.tokens = { access_token: body.access_token, refresh_token: body.refresh_token };
    this.tokenCache?.write(this.tokens);
  }

  /** End the session on the server (the refresh token is the proof) and forget the tokens. */
  async logout(): Promise<void> {
    const links = (await this.about()).authentication.links;
    if (!this.tokens.refresh_token && this.tokenCache) this.tokens = this.tokenCache.read();
    if (links && this.tokens.refresh_token) {
      const revokeUrl = links.revoke_session.replace(/\/\{session_id\}$/, '');
      // A dead session is already logged out; only a server we cannot reach is worth reporting.
      await this.send('POST', revokeUrl, { json: { refresh_token: this.tokens.refresh_token }, authenticate: false });
    }
    this.tokens = {};
    this.tokenCache?.clear();
  }

  /** The authenticated principal, or null when the server does not know who we are. */
  async whoami(): Promise<Principal | null> {
    const links = (await this.about()).authentication.links;
    if (!links) return null;
    return (await this.fetchDocument('GET', links.whoami, { accept: MSGPACK })) as Principal | null;
  }

  /** tiled-ts: may this caller use `scope` on `path`, and which layer decided (docs/access-control.md). */
  async explain(path: string, scope = 'read:metadata'): Promise<Explanation> {
    return (await this.fetchDocument('GET', `${this.apiUri}auth/explain`, { query: { path, scope }, accept: JSON_TYPE })) as Explanation;
  }

  async createApiKey(options: CreateApiKeyOptions = {}): Promise<ApiKeyWithSecret> {
    const links = (await this.about()).authentication.links;
    if (!links) throw new TiledClientError(0, SINGLE_USER_NO_KEYS);
    const key = (await this.fetchDocument('POST', links.apikey, { json: apiKeyBody(options), accept: MSGPACK })) as ApiKeyWithSecret;
    if (options.path && !key.path) {
      // A server that ignores `path` (Tiled) made a key reaching everything: never hand that out as a bound key.
      await this.fetchDocument('DELETE', links.apikey, { query: { first_eight: key.first_eight }, accept: MSGPACK });
      throw new TiledClientError(0, KEY_PATH_UNSUPPORTED);
    }
    return key;
  }

  /** Revoke one of the caller's keys by its first eight characters (a full key is trimmed). */
  async revokeApiKey(firstEightOrKey: string): Promise<void> {
    const links = (await this.about()).authentication.links;
    if (!links) throw new TiledClientError(0, SINGLE_USER_NO_KEYS);
    await this.fetchDocument('DELETE', links.apikey, { query: { first_eight: firstEightOrKey.slice(0, 8) }, accept: MSGPACK });
  }

  /** Information about the API key this context authenticates with. */
  async whichApiKey(): Promise<ApiKeyInfo> {
    const links = (await this.about()).authentication.links;
    if (!links) throw new TiledClientError(0, SINGLE_USER_NO_KEYS);
    return (await this.fetchDocument('GET', links.apikey, { accept: MSGPACK })) as ApiKeyInfo;
  }

  readonly admin = {
    listPrincipals: async (offset = 0, limit = 100): Promise<Principal[]> =>
      (await this.fetchDocument('GET', `${this.apiUri}auth/principal`, {
        query: { 'page[offset]': String(offset), 'page[limit]': String(limit) },
        accept: JSON_TYPE,
      })) as Principal[],
    showPrincipal: async (uuid: string): Promise<Principal> =>
      (await this.fetchDocument('GET', `${this.apiUri}auth/principal/${encodeURIComponent(uuid)}`, { accept: JSON_TYPE })) as Principal,
    createServicePrincipal: async (role = 'user'): Promise<Principal> =>
      (await this.fetchDocument('POST', `${this.apiUri}auth/principal`, { query: { role }, accept: JSON_TYPE })) as Principal,
    createApiKey: async (uuid: string, options: CreateApiKeyOptions = {}): Promise<ApiKeyWithSecret> =>
      (await this.fetchDocument('POST', `${this.apiUri}auth/principal/${encodeURIComponent(uuid)}/apikey`, {
        json: apiKeyBody(options),
        accept: MSGPACK,
      })) as ApiKeyWithSecret,
    revokeApiKey: async (uuid: string, firstEightOrKey: string): Promise<void> => {
      await this.fetchDocument('DELETE', `${this.apiUri}auth/principal/${encodeURIComponent(uuid)}/apikey`, {
        query: { first_eight: firstEightOrKey.slice(0, 8) },
        accept: MSGPACK,
      });
    },
  };

  /** A request whose body is a JSON or msgpack document; non-2xx becomes a TiledClientError. */
  async fetchDocument(method: string, url: string, options: RequestOptions = {}): Promise<unknown> {
    const response = await this.request(method, url, options);
    return this.decode(response);
  }

  /** A request with credentials, refreshing an expired access token once; non-2xx throws. */
  async request(method: string, url: string, options: RequestOptions = {}): Promise<Response> {
    const authenticate = options.authenticate !== false;
    if (authenticate && this.apiKey === undefined && !this.tokens.access_token && this.tokens.refresh_token) await this.refresh();
    const sentWith = this.tokens.access_token;
    let response = await this.send(method, url, options);
    if (response.status === 401 && authenticate && this.apiKey === undefined && this.tokens.refresh_token) {
      await response.arrayBuffer();
      // Another request may have refreshed meanwhile; only refresh if we still hold the token that failed.
      if (this.tokens.access_token === sentWith) await this.refresh();
      response = await this.send(method, url, options);
    }
    if (!response.ok) throw this.errorFrom(response, await this.decode(response).catch(() => undefined));
    return response;
  }

  private async send(method: string, url: string, options: RequestOptions): Promise<Response> {
    const target = new URL(url);
    if (options.query instanceof URLSearchParams) {
      for (const [key, value] of options.query) target.searchParams.append(key, value);
    } else if (options.query) {
      for (const [key, value] of Object.entries(options.query)) {
        if (value === undefined) continue;
        for (const item of Array.isArray(value) ? value : [value]) target.searchParams.append(key, item);
      }
    }
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...this.extraHeaders, ...options.headers };
    if (options.accept) headers.accept = options.accept;
    if (options.authenticate !== false) {
      if (this.apiKey !== undefined) headers.authorization = `Apikey ${this.apiKey}`;
      else if (this.tokens.access_token) headers.authorization = `Bearer ${this.tokens.access_token}`;
    }
    const csrf = this.cookies.get('tiled_csrf');
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    // Tiled enforces the double-submit check on unsafe methods; sending the header is always harmless.
    if (csrf && !['GET', 'HEAD', 'OPTIONS'].includes(method)) headers['x-csrf'] = csrf;
    let body: string | Uint8Array | undefined;
    if (options.bytes) {
      headers['content-type'] = options.bytes.type;
      body = options.bytes.data;
    } else if (options.json !== undefined) {
      headers['content-type'] = JSON_TYPE;
      body = JSON.stringify(options.json);
    } else if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    let response: Response;
    try {
      response = await fetch(target, { method, headers, body, redirect: 'follow' });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new TiledClientError(0, `Could not reach ${target.origin}: ${cause}`, redactApiKey(target));
    }
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '""' || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  private async decode(response: Response): Promise<unknown> {
    if (response.status === 204 || response.status === 304) return null;
    const type = response.headers.get('content-type') ?? '';
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (!bytes.length) return null;
    if (type === MSGPACK) return msgpackDecode(bytes);
    if (type.startsWith(JSON_TYPE)) return JSON.parse(Buffer.from(bytes).toString('utf8'));
    return Buffer.from(bytes).toString('utf8');
  }

  private errorFrom(response: Response, body: unknown): TiledClientError {
    let detail: string;
    if (body && typeof body === 'object' && 'detail' in body) detail = detailText((body as { detail: unknown }).detail);
    else if (typeof body === 'string' && body) detail = body.trim();
    else detail = response.statusText || 'Request failed';
    return new TiledClientError(response.status, detail, redactApiKey(new URL(response.url)));
  }
}

function redactApiKey(url: URL): string {
  const copy = new URL(url);
  if (copy.searchParams.has('api_key')) copy.searchParams.set('api_key', '[redacted]');
  return copy.toString();
}

/** Tiled's client always sends all four keys, in this order (see 32-cli-http-via-proxy.txt). */
function apiKeyBody(options: CreateApiKeyOptions): Record<string, unknown> {
  const expires = options.expiresIn === undefined || options.expiresIn === null ? null : parseTimeString(options.expiresIn);
  return {
    scopes: options.scopes && options.scopes.length ? options.scopes : null,
    access_tags: options.accessTags && options.accessTags.length ? options.accessTags : null,
    expires_in: expires,
    note: options.note ?? null,
    ...(options.path ? { path: options.path } : {}),
  };
}
