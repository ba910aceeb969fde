/**
 * A failure reported by a Tiled server (or by the client before it could ask one).
 * `status` is the HTTP status (0 when no response was received); `detail` is the server's
 * `detail` text when it sent one, so callers can show exactly what the server said.
 */
export class TiledClientError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly url?: string,
  ) {
    super(status ? `${status} ${detail}` : detail);
    this.name = 'TiledClientError';
  }
}

/** Credentials are needed and none (or only dead ones) are available. */
export class NotAuthenticatedError extends TiledClientError {
  constructor(detail = 'Not authenticated. Log in with `tiled login`, or set TILED_API_KEY.') {
    super(401, detail);
    this.name = 'NotAuthenticatedError';
  }
}

/** Render whatever FastAPI put in `detail` (a string, or a list of validation errors) as one line. */
export function detailText(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item: unknown) => {
        if (item && typeof item === 'object' && 'msg' in item) {
          const entry = item as { msg: unknown; loc?: unknown };
          const loc = Array.isArray(entry.loc) ? entry.loc.join('.') : '';
          return loc ? `${loc}: ${String(entry.msg)}` : String(entry.msg);
        }
        return JSON.stringify(item);
      })
      .join('; ');
  }
  return JSON.stringify(detail);
}
