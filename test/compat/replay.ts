import { request as httpRequest } from 'node:http';
import { gunzipSync, inflateSync, zstdDecompressSync } from 'node:zlib';
import { decode as decodeMsgpack } from '@msgpack/msgpack';
import { decodeJwt, SignJWT } from 'jose';
import { CapturedBody, Exchange, header, Header, headersNamed } from './capture';

export interface Answer {
  status: number;
  headers: Header[];
  /** Decoded (gunzipped) body. */
  body: Buffer;
  /** content-encoding the server chose, if any. */
  encoding?: string;
  /** The request as we actually sent it, after credential substitution. */
  sent: { method: string; target: string; headers: Header[]; body?: string };
}

/** Headers that belong to the connection, not to what the client means; node sets them itself. */
const CONNECTION_HEADERS = new Set(['host', 'content-length', 'connection']);

/** JSON keys whose captured values are credentials or ids minted by the server: learned, then substituted. */
const LEARNED_KEYS = new Set(['access_token', 'refresh_token', 'secret', 'first_eight', 'uuid', 'session_id']);

const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

export interface ReplayOptions {
  /** The captured server's origins, replaced by ours (the proxy in the 30/32 files used another port). */
  capturedOrigins: string[];
  /** Passwords of the toy users, to get our own tokens for captured ones. */
  users?: Record<string, string>;
  /** HS256 secret our server signs with, to mint the captures' deliberately expired tokens. */
  secret?: string;
}

/**
 * Replays captured requests against a live tiled-ts, translating the captured server's
 * credentials and ids into ours: every value the captured server minted (tokens, key secrets,
 * first_eight, uuids, CSRF cookies) is mapped to what ours minted at the same point of the
 * conversation.
 */
export class Replayer {
  readonly map = new Map<string, string>();
  private readonly ourTokens = new Map<string, { access_token: string; refresh_token: string }>();
  /** Our newest refresh token: a captured one we never saw minted stands for it (the client refreshes its own session). */
  private latestRefresh?: string;

  constructor(
    readonly origin: string,
    private readonly options: ReplayOptions,
  ) {}

  /** Map a captured value to ours, and its first eight characters too when it is a key secret. */
  learn(captured: string, ours: string): void {
    if (captured === ours || captured.length < 4) return;
    this.map.set(captured, ours);
    // Tiled accepts a uuid with or without dashes in paths; the captures use both spellings.
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(captured)) this.map.set(captured.replace(/-/g, ''), ours.replace(/-/g, ''));
    if (/^[0-9a-f]{72}$/.test(captured) && /^[0-9a-f]{72}$/.test(ours)) this.map.set(captured.slice(0, 8), ours.slice(0, 8));
  }

  /** Our access/refresh tokens for a toy user (logged in once, on first need). */
  async tokensFor(username: string): Promise<{ access_token: string; refresh_token: string }> {
    const known = this.ourTokens.get(username);
    if (known) return known;
    const tokens = await this.login(username);
    this.ourTokens.set(username, tokens);
    this.latestRefresh = tokens.refresh_token;
    return tokens;
  }

  /**
   * A session the recording learned outside the capture (a path names its id): ours is a fresh
   * login of the same user, separate from the one whose tokens stand for the user's captured ones.
   */
  async learnSession(capturedSid: string, username: string): Promise<void> {
    const sid = decodeJwt((await this.login(username)).refresh_token).sid;
    if (typeof sid === 'string') this.learn(capturedSid, sid);
  }

  /**
   * Our session for this user was revoked (Tiled's access tokens outlive that, ours do not): later
   * captured tokens of the user stand for a new login instead.
   */
  forget(username: string): void {
    this.ourTokens.delete(username);
    for (const [captured, ours] of this.map) {
      if (!/^eyJ/.test(ours)) continue;
      const claims = decodeJwt(ours);
      const ids = claims.ids as { id: string }[] | undefined;
      if (claims.type === 'access' && ids?.[0]?.id === username) this.map.delete(captured);
    }
  }

  private async login(username: string): Promise<{ access_token: string; refresh_token: string }> {
    const password = this.options.users?.[username];
    if (password === undefined) throw new Error(`no password for captured user ${username}`);
    const response = await fetch(`${this.origin}/api/v1/auth/provider/toy/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }).toString(),
    });
    if (response.status !== 200) throw new Error(`login of ${username} failed: ${response.status} ${await response.text()}`);
    return (await response.json()) as { access_token: string; refresh_token: string };
  }

  /**
   * A captured access token we have not seen minted (it came from a login outside this replay, or
   * was minted expired): ours for the same user, expired too when it was expired when captured.
   */
  private async translateJwt(token: string, capturedAt: number): Promise<string | undefined> {
    let claims: ReturnType<typeof decodeJwt>;
    try {
      claims = decodeJwt(token);
    } catch {
      return undefined;
    }
    if (claims.type === 'refresh') return this.latestRefresh;
    const ids = claims.ids as { id: string }[] | undefined;
    if (claims.type !== 'access' || !ids?.[0] || this.options.users?.[ids[0].id] === undefined) return undefined;
    const ours = (await this.tokensFor(ids[0].id)).access_token;
    const wasExpired = typeof claims.exp === 'number' && claims.exp * 1000 < capturedAt;
    if (!wasExpired) return ours;
    if (!this.options.secret) throw new Error('an expired captured token needs the server secret');
    const expired = { ...decodeJwt(ours), exp: Math.floor(Date.now() / 1000) - 3600 };
    return new SignJWT(expired).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(this.options.secret));
  }

  substitute(text: string): string {
    let out = text;
    for (const origin of this.options.capturedOrigins) out = out.split(origin).join(this.origin);
    // Longest first, so a secret is replaced whole before its first eight characters are.
    const keys = [...this.map.keys()].sort((a, b) => b.length - a.length);
    for (const key of keys) out = out.split(key).join(this.map.get(key)!);
    return out;
  }

  private async prepare(text: string, capturedAt: number): Promise<string> {
    for (const token of text.match(JWT) ?? []) {
      if (this.map.has(token)) continue;
      const ours = await this.translateJwt(token, capturedAt);
      if (ours) this.map.set(token, ours);
    }
    return this.substitute(text);
  }

  async replay(exchange: Exchange): Promise<Answer> {
    const capturedAt = Date.parse(header(exchange.response.headers, 'date') ?? '') || Date.now();
    const target = await this.prepare(exchange.request.target, capturedAt);
    const headers: Header[] = [];
    for (const [name, value] of exchange.request.headers) {
      if (CONNECTION_HEADERS.has(name.toLowerCase())) continue;
      headers.push([name, await this.prepare(value, capturedAt)]);
    }
    const body = exchange.request.body === undefined ? undefined : await this.prepare(exchange.request.body, capturedAt);
    const answer = await send(this.origin, exchange.request.method, target, headers, body);
    this.learnFrom(exchange, answer);
    return answer;
  }

  private learnFrom(exchange: Exchange, answer: Answer): void {
    const capturedCsrf = csrfCookie(exchange.response.headers);
    const ourCsrf = csrfCookie(answer.headers);
    if (capturedCsrf && ourCsrf) this.learn(capturedCsrf, ourCsrf);
    // Conditional requests (If-None-Match) name an ETag the captured server made.
    const capturedEtag = header(exchange.response.headers, 'etag');
    const ourEtag = header(answer.headers, 'etag');
    if (capturedEtag && ourEtag) this.learn(capturedEtag, ourEtag);
    const captured = capturedDocument(exchange.response.body);
    const ours = ourDocument(answer);
    if (isObject(ours) && typeof ours.refresh_token === 'string') this.latestRefresh = ours.refresh_token;
    if (captured !== undefined && ours !== undefined) this.learnValues(captured, ours);
    // A truncated msgpack preview still starts with first_eight (str8 key, then an 8-byte str) in a key-creation answer.
    const body = exchange.response.body;
    const firstEight = body.kind === 'bytes' ? /ab66697273745f6569676874a8((?:[0-9a-f]{2}){8})/.exec(body.prefix.toString('hex')) : null;
    if (firstEight && isObject(ours) && typeof ours.first_eight === 'string') this.learn(Buffer.from(firstEight[1], 'hex').toString('latin1'), ours.first_eight);
  }

  private learnValues(captured: unknown, ours: unknown, key = ''): void {
    if (typeof captured === 'string' && typeof ours === 'string') {
      if (LEARNED_KEYS.has(key)) {
        this.learn(captured, ours);
        // Tokens carry the session and principal ids that later requests name in paths.
        if (key.endsWith('_token')) this.learnClaims(captured, ours);
      }
      return;
    }
    if (Array.isArray(captured) && Array.isArray(ours)) {
      captured.forEach((item, i) => this.learnValues(item, ours[i], key));
      return;
    }
    if (isObject(captured) && isObject(ours)) {
      for (const k of Object.keys(captured)) this.learnValues(captured[k], ours[k], k);
    }
  }

  private learnClaims(captured: string, ours: string): void {
    try {
      const a = decodeJwt(captured);
      const b = decodeJwt(ours);
      for (const claim of ['sub', 'sid'] as const) {
        if (typeof a[claim] === 'string' && typeof b[claim] === 'string') this.learn(a[claim] as string, b[claim] as string);
      }
    } catch {
      // Not a JWT on one side: nothing more to learn.
    }
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function csrfCookie(headers: Header[]): string | undefined {
  for (const cookie of headersNamed(headers, 'set-cookie')) {
    const match = /^tiled_csrf=([^;]+)/.exec(cookie);
    if (match) return match[1];
  }
  return undefined;
}

/** The captured body as a document, when it was recorded whole and is JSON. */
export function capturedDocument(body: CapturedBody): unknown {
  if (body.kind === 'text' && body.complete) {
    try {
      return JSON.parse(body.text);
    } catch {
      return undefined;
    }
  }
  if (body.kind === 'bytes' && body.prefix.length === body.length && body.length > 0) {
    try {
      return decodeMsgpack(body.prefix);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Our body as a document (JSON or msgpack by content type). */
export function ourDocument(answer: Answer): unknown {
  const type = header(answer.headers, 'content-type');
  try {
    if (type === 'application/json') return JSON.parse(answer.body.toString('utf8'));
    if (type === 'application/x-msgpack') return decodeMsgpack(answer.body);
  } catch {
    return undefined;
  }
  return undefined;
}

export function send(origin: string, method: string, target: string, headers: Header[], body?: string | Buffer): Promise<Answer> {
  const url = new URL(origin);
  // Raw header arrays get no default Host from node; Fastify answers 400 without one.
  const flat: string[] = ['Host', url.host];
  for (const [name, value] of headers) flat.push(name, value);
  const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  // curl sends a bodiless POST with no length at all; node would switch to chunked encoding, which
  // Fastify reads as a body without a content type (415). An explicit zero length is the same request.
  flat.push('Content-Length', String(payload?.length ?? 0));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: target, headers: flat }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const encoding = res.headers['content-encoding'];
        let decoded = raw;
        if (encoding === 'gzip') decoded = gunzipSync(raw);
        else if (encoding === 'deflate') decoded = inflateSync(raw);
        else if (encoding === 'zstd') decoded = zstdDecompressSync(raw);
        const pairs: Header[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
        resolve({ status: res.statusCode ?? 0, headers: pairs, body: decoded, encoding, sent: { method, target, headers, body: typeof body === 'string' ? body : undefined } });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
