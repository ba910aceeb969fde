import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';

const ANSWERS = new Map<string, [number, string, string]>([
  ['HPE_HEADER_OVERFLOW', [431, 'Request Header Fields Too Large', 'Request line and headers are too large']],
  ['ERR_HTTP_REQUEST_TIMEOUT', [408, 'Request Timeout', 'The request was not received in time']],
]);
const MALFORMED: [number, string, string] = [400, 'Bad Request', 'Invalid HTTP request'];

/**
 * Node's HTTP parser refuses a request before Fastify sees it (headers too large, a malformed request
 * line or URL, a timeout); Fastify's default answer has its own body shape and no `Connection: close`,
 * then destroys the socket, so a keep-alive client sends its next request into a closed connection.
 * Answer in Tiled's `{"detail": ...}` shape and say the connection closes.
 */
export function answerClientError(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  // Already answered: the parser reports again as the rest of the request arrives. Destroying the socket
  // now would reset the connection before the client has read the answer.
  if (error.code === 'ECONNRESET' || socket.destroyed || socket.writableEnded) return;
  // A response already under way on this socket cannot be followed by another.
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || current?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason, detail] = ANSWERS.get(error.code ?? '') ?? MALFORMED;
  // The answer to a HEAD has no body. The packet that failed may be a later piece of the request, so the
  // body is sent only when it shows a method that has one; closing the connection delimits the answer.
  const start = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.subarray(0, 8).toString('latin1') : '';
  const body = /^(GET|POST|PUT|PATCH|DELETE|OPTIONS) /.test(start) ? JSON.stringify({ detail }) : '';
  // Closed for good once the client has had time to read the answer, whatever it keeps sending.
  setTimeout(() => socket.destroy(), 5000).unref();
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

const FRAMEWORK_ANSWERS = new Map<string, [number, string]>([
  ['FST_ERR_BAD_URL', [400, 'Malformed request: the URL is not valid percent-encoded UTF-8']],
  ['FST_ERR_MAX_PARAM_LENGTH', [414, 'Malformed request: a path segment is too long']],
]);

/**
 * Fastify rejects a malformed URL before any route runs. Its messages quote the whole URL, query
 * included, and a query may carry `api_key`: answer in Tiled's shape without echoing the request.
 */
export function answerFrameworkError(error: Error & { code?: string }, _request: unknown, reply: FastifyReply): void {
  const [status, detail] = FRAMEWORK_ANSWERS.get(error.code ?? '') ?? [400, 'Malformed request'];
  void reply.code(status).header('content-type', 'application/json').send(Buffer.from(JSON.stringify({ detail })));
}
