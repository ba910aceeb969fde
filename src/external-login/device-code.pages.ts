/** The three pages of the device flow's browser leg. Everything interpolated is escaped. */

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}input{font-size:1.5rem;letter-spacing:.2rem;text-transform:uppercase}</style>
</head><body>${body}</body></html>`;
}

export function userCodeForm(options: { action: string; code: string; state: string; message?: string }): string {
  return page(
    'Enter the code',
    `<h1>Authorize the Tiled client</h1>
${options.message ? `<p role="alert" id="message">${escapeHtml(options.message)}</p>` : ''}
<p>Enter the code shown in your terminal.</p>
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="code" value="${escapeHtml(options.code)}">
<input type="hidden" name="state" value="${escapeHtml(options.state)}">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" autocomplete="off" autofocus required placeholder="XXXX-XXXX" maxlength="12">
<button type="submit">Continue</button>
</form>`,
  );
}

export function successPage(intervalSeconds: number): string {
  return page(
    'Success',
    `<h1 id="result">Success!</h1><p>You have logged in. Within ${intervalSeconds} seconds the Tiled client will be logged in too; you may close this window.</p>`,
  );
}

export function failurePage(message: string): string {
  return page('Authentication failed', `<h1 id="result">Authentication failed</h1><p>${escapeHtml(message)}</p>`);
}
