import type { FastifyRequest } from 'fastify';

/**
 * The API base (`…/api/v1`) used in redirect URIs and device-flow links. Never built from the Host
 * header: a forged Host would make the server hand out a redirect URI (and with it the user's code) to
 * another origin. Either the operator configured it, or it is the address this socket is bound to.
 */
export function publicApiBase(configured: string | undefined, request: FastifyRequest): string {
  if (configured) return `${configured.replace(/\/+$/, '')}/api/v1`;
  const socket = request.socket;
  const address = socket.localAddress ?? '127.0.0.1';
  const host = address.includes(':') ? (address.startsWith('::ffff:') ? address.slice(7) : `[${address}]`) : address;
  return `http://${host}:${socket.localPort}/api/v1`;
}
