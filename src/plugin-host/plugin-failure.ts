import { isProviderUnavailable } from '../plugins-api';

/** Error codes of a connection that never got an answer: Node's socket errors and undici's (global fetch). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_SOCKET',
]);

/**
 * The status the host answers when a plugin throws: 503 ("try again later") when the service behind it is
 * down, 500 otherwise. Decided by the error's type — the plugin API's brand, or a network error that escaped
 * the plugin (its `code`, or its `cause`'s as fetch reports them) — never by the wording of its message.
 */
export function pluginFailureStatus(error: unknown): 503 | 500 {
  return isProviderUnavailable(error) || isUnreachable(error) || isUnreachable((error as { cause?: unknown } | null)?.cause) ? 503 : 500;
}

function isUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name } = error as { code?: unknown; name?: unknown };
  return (typeof code === 'string' && UNREACHABLE_CODES.has(code)) || name === 'TimeoutError';
}
