/**
 * The terminal side of the device-code flow (`tiled login` with an external provider): start it, show the
 * user where to go and which code to type, poll until the browser leg is done. Speaks to any Tiled 0.2.16
 * server as well as to this one (which may also answer `slow_down`).
 */

import type { DeviceFlowStart } from './external-login.service';

/** What a successful login returns (Tiled's token response). */
export interface DeviceFlowTokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_token_expires_in: number;
  token_type: string;
  identity: { id: string; provider: string };
  principal: string;
}

export interface DeviceFlowOptions {
  /** Shows the instructions (URL and user code) to the user. */
  print(text: string): void;
  /** Called once per "still waiting" answer, e.g. to print a dot. */
  poll?(): void;
  fetch?: typeof fetch;
  /** Injected by tests; defaults to a real timer. */
  sleep?(ms: number): Promise<void>;
}

/** The flow failed for a reason the user should read (expired, refused, server error). */
export class DeviceFlowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceFlowError';
  }
}

export async function loginWithDeviceFlow(apiBase: string, provider: string, options: DeviceFlowOptions): Promise<DeviceFlowTokens> {
  const fetchImpl = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const startUrl = `${apiBase.replace(/\/+$/, '')}/auth/provider/${encodeURIComponent(provider)}/authorize`;
  const startResponse = await fetchImpl(startUrl, { method: 'POST', headers: { accept: 'application/json' } });
  if (!startResponse.ok) throw new DeviceFlowError(`Could not start the login with "${provider}": ${await describeFailure(startResponse)}`);
  const start = (await startResponse.json()) as DeviceFlowStart;
  const minutes = Math.round(Number(start.expires_in) / 60);
  options.print(`You have ${minutes} minutes to visit this URL\n\n${start.authorization_uri}\n\nand enter the code:\n\n${start.user_code}\n`);

  let intervalMs = Math.max(1, Number(start.interval) || 5) * 1000;
  const deadline = Date.now() + Number(start.expires_in) * 1000;
  while (Date.now() < deadline) {
    await sleep(intervalMs);
    const response = await fetchImpl(start.verification_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ device_code: start.device_code, grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }),
    });
    if (response.ok) return (await response.json()) as DeviceFlowTokens;
    const detail = await detailOf(response);
    const error = typeof detail === 'object' && detail !== null ? (detail as { error?: unknown; interval?: unknown }) : undefined;
    if (response.status === 400 && error?.error === 'authorization_pending') {
      options.poll?.();
      continue;
    }
    if (response.status === 400 && error?.error === 'slow_down') {
      intervalMs = typeof error.interval === 'number' ? error.interval * 1000 : intervalMs + 5000;
      continue;
    }
    throw new DeviceFlowError(`Login with "${provider}" failed: ${await describeFailure(response, detail)}`);
  }
  throw new DeviceFlowError(`Login with "${provider}" expired: the code was not entered within ${minutes} minutes`);
}

async function detailOf(response: Response): Promise<unknown> {
  try {
    return ((await response.json()) as { detail?: unknown }).detail;
  } catch {
    return undefined;
  }
}

async function describeFailure(response: Response, detail?: unknown): Promise<string> {
  const shown = detail ?? (await detailOf(response));
  return `HTTP ${response.status}${shown === undefined ? '' : ` ${typeof shown === 'string' ? shown : JSON.stringify(shown)}`}`;
}
