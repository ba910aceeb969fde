import { recordAuthorization, recordJsonSecrets, recordSecret, recordUrlSecrets } from './log-capture';

/**
 * Jest setupFile: every secret a spec sends or receives over `fetch` (the specs' own calls and the
 * client library's, which uses the same global) is recorded for the log scan. Requests give keys in
 * `?api_key=` and Authorization, and refresh tokens in JSON bodies; responses give new API keys,
 * tokens, device codes and, in redirects, the `code` and `state` of a login.
 */
const originalFetch = globalThis.fetch;

globalThis.fetch = async function recordingFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = input instanceof Request ? input : undefined;
  recordUrlSecrets(request ? request.url : input.toString(), 'request');
  recordAuthorization(new Headers(init?.headers ?? request?.headers).get('authorization'), 'request');
  if (typeof init?.body === 'string') recordBody(init.body, 'request body');
  else if (init?.body instanceof URLSearchParams) recordBody(init.body.toString(), 'request body');

  const response = await originalFetch(input, init);
  const location = response.headers.get('location');
  if (location) recordUrlSecrets(location, 'redirect');
  for (const cookie of response.headers.getSetCookie()) {
    const [, name, value] = /^([^=]+)=([^;]*)/.exec(cookie) ?? [];
    if (name === 'tiled_api_key') recordSecret(value, 'set-cookie');
  }
  if (/\bjson\b/.test(response.headers.get('content-type') ?? '')) {
    try {
      recordJsonSecrets(JSON.parse(await response.clone().text()), `response of ${response.url}`);
    } catch {
      // Not JSON after all, or a body that cannot be read twice: nothing to record.
    }
  }
  return response;
} as typeof fetch;

function recordBody(body: string, source: string): void {
  try {
    recordJsonSecrets(JSON.parse(body), source);
  } catch {
    recordUrlSecrets(`?${body}`, source);
  }
}
