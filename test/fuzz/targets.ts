import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, SignJWT } from 'jose';
import { Mode } from '../meta/route-table';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';
import { CredentialKind, DEMO_NODES, KnownValues, RouteTemplate, snapshotRoutes } from './requests';

/** A running server with the credentials the fuzzer presents to it. */
export interface FuzzTarget {
  mode: Mode;
  server: RunningServer;
  routes: RouteTemplate[];
  known: KnownValues;
  /** The value presented for each credential kind that carries one (API keys bare, tokens bare). */
  credentials: Partial<Record<CredentialKind, string>>;
  /**
   * Every secret the fuzzer holds, by name. The fuzzer presents them only where credentials go and
   * never asks the server to issue or return any of them, so none may appear in any response.
   */
  secrets: Map<string, string>;
  stop(): Promise<void>;
}

function hexKey(): string {
  return randomBytes(32).toString('hex');
}

async function json<T>(response: Response, what: string): Promise<T> {
  if (!response.ok) throw new Error(`fuzz setup: ${what} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** `tiled serve demo --public` with a known single-user key. */
export async function startSingleUser(): Promise<FuzzTarget> {
  const key = hexKey();
  const server = await startTiled(['serve', 'demo', '--public'], { env: { TILED_SINGLE_USER_API_KEY: key } });
  return {
    mode: 'single-user',
    server,
    routes: snapshotRoutes('single-user'),
    known: { nodes: DEMO_NODES, ids: [], providers: ['toy'], spareRefreshTokens: [], usernames: ['alice'], passwords: ['x'] },
    credentials: { 'valid-key': key, 'wrong-key': hexKey() },
    secrets: new Map([['the single-user API key', key]]),
    stop: () => server.stop(),
  };
}

interface Tokens {
  access_token: string;
  refresh_token: string;
}

async function login(api: string, username: string, password: string): Promise<Tokens> {
  const response = await fetch(`${api}/auth/provider/toy/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  return json<Tokens>(response, `login as ${username}`);
}

async function createKey(api: string, accessToken: string, body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${api}/auth/apikey`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await json<{ secret: string }>(response, 'API key creation')).secret;
}

async function whoami(api: string, accessToken: string): Promise<{ uuid: string; sessions: { uuid: string }[] }> {
  return json(await fetch(`${api}/auth/whoami`, { headers: { authorization: `Bearer ${accessToken}` } }), 'whoami');
}

/**
 * The toy multi-user configuration: `alice` and the admin `root`, each with a session and an API key;
 * an expired and a revoked key of alice's; an expired access token signed with the server's own secret
 * and one signed with another; a spare session of alice's whose refresh token fuzzed requests may spend.
 */
export async function startMultiUser(): Promise<FuzzTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'tiled-fuzz-'));
  // bob's password is the one fuzzed login forms may get right, so alice's sessions stay as set up.
  const passwords = { alice: hexKey(), root: hexKey(), bob: hexKey() };
  const secretKey = hexKey();
  const config = writeToyConfig(dir, { users: passwords, admins: ['root'], secretKeys: [secretKey] });
  const server = await startTiled(['serve', 'config', config], { cwd: dir });
  try {
    const api = server.api;
    const alice = await login(api, 'alice', passwords.alice);
    const root = await login(api, 'root', passwords.root);
    const spare = await login(api, 'alice', passwords.alice);
    const aliceKey = await createKey(api, alice.access_token, { note: 'fuzz' });
    const rootKey = await createKey(api, root.access_token, { note: 'fuzz admin' });
    const expiredKey = await createKey(api, alice.access_token, { expires_in: 1 });
    const revokedKey = await createKey(api, alice.access_token, { note: 'revoked' });
    const revoked = await fetch(`${api}/auth/apikey?first_eight=${revokedKey.slice(0, 8)}`, { method: 'DELETE', headers: { authorization: `Bearer ${alice.access_token}` } });
    if (revoked.status !== 204) throw new Error(`fuzz setup: revoking a key answered ${revoked.status}`);
    const claims = decodeJwt(alice.access_token);
    const past = Math.floor(Date.now() / 1000) - 3600;
    const expiredToken = await new SignJWT({ ...claims, exp: past }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secretKey));
    const foreignToken = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(hexKey()));
    const aliceInfo = await whoami(api, alice.access_token);
    const rootInfo = await whoami(api, root.access_token);
    const spareSession = String(decodeJwt(spare.access_token).sid);
    // Let the one-second key expire before the first fuzzed request presents it.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    return {
      mode: 'multi-user',
      server,
      routes: snapshotRoutes('multi-user'),
      known: {
        nodes: DEMO_NODES,
        // Not the valid keys' first_eight: a fuzzed DELETE must not revoke the fuzzer's own credentials.
        ids: [aliceInfo.uuid, rootInfo.uuid, spareSession, revokedKey.slice(0, 8), expiredKey.slice(0, 8)],
        providers: ['toy'],
        spareRefreshTokens: [spare.refresh_token],
        usernames: ['alice', 'bob', 'root', 'mallory'],
        passwords: [passwords.bob],
      },
      credentials: {
        'valid-key': aliceKey,
        'valid-admin-key': rootKey,
        'wrong-key': hexKey(),
        'expired-key': expiredKey,
        'revoked-key': revokedKey,
        'valid-token': alice.access_token,
        'valid-admin-token': root.access_token,
        'expired-token': expiredToken,
        'foreign-token': foreignToken,
      },
      secrets: new Map([
        ["alice's password", passwords.alice],
        ["root's password", passwords.root],
        ["bob's password", passwords.bob],
        ['the JWT signing secret', secretKey],
        ["alice's API key", aliceKey],
        ["root's API key", rootKey],
        ["alice's expired API key", expiredKey],
        ["alice's revoked API key", revokedKey],
        ["alice's access token", alice.access_token],
        ["alice's refresh token", alice.refresh_token],
        ["root's access token", root.access_token],
        ["root's refresh token", root.refresh_token],
        ["alice's spare refresh token", spare.refresh_token],
        ['the expired access token', expiredToken],
      ]),
      stop: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
