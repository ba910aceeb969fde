/**
 * Signs in at the test provider's dev login page over plain HTTP (no browser) and returns the URL the
 * provider finally redirects to (the relying party's callback), without requesting it. Used where a
 * test is about the server's checks rather than the browser experience; the browser tests use Chromium.
 */
export async function signInAtProvider(authorizationUrl: string, login = 'alice'): Promise<URL> {
  const left = await browseProvider(authorizationUrl, login);
  if (!left) throw new Error(`the provider never redirected away from ${authorizationUrl}`);
  return left;
}

/**
 * Approves a device-flow login (RFC 8628) as the user would in a browser: opens the provider's
 * `verification_uri_complete`, confirms the code, signs in as `login` and consents.
 */
export async function approveDeviceLogin(verificationUriComplete: string, login = 'alice'): Promise<void> {
  const left = await browseProvider(verificationUriComplete, login);
  if (left) throw new Error(`the device login left the provider for ${left.href}`);
}

/**
 * Follows the provider's redirects and submits each form it shows (hidden fields as given, the login
 * form with `login`), until it redirects to another origin (returned) or shows a page without a form.
 */
async function browseProvider(start: string, login: string): Promise<URL | undefined> {
  const origin = new URL(start).origin;
  const cookies = new Map<string, string>();
  let url = start;
  let method = 'GET';
  let body: string | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const response = await fetch(url, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body,
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair.indexOf('=');
      cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.origin !== origin) return next;
      url = next.href;
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`provider answered ${response.status} at ${url}: ${html.slice(0, 300)}`);
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
    if (!form) return undefined;
    const fields = new URLSearchParams();
    for (const input of form[2].matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(input[0])?.[1];
      if (name) fields.set(name, (/value="([^"]*)"/.exec(input[0])?.[1] ?? '').replace(/&amp;/g, '&'));
    }
    if (fields.get('prompt') === 'login') {
      fields.set('login', login);
      fields.set('password', 'any');
    }
    url = new URL(form[1].replace(/&amp;/g, '&'), url).href;
    method = 'POST';
    body = fields.toString();
  }
  throw new Error('too many redirects at the provider');
}
