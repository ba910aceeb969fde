import type { FastifyRequest } from 'fastify';
import { TiledHttpError } from '../../common/errors/tiled-http.error';
import { FORMAT_ALIASES } from '../encoders/registry';
import { Query, one } from './query-params';

/**
 * `?format=` spellings beyond the encoders' own aliases (src/catalog/encoders/registry.ts). Maps:
 * `format=constructor` is an unknown format (406), not Object.prototype's member.
 */
const EXTRA_ALIASES: ReadonlyMap<string, string> = new Map([
  ['bin', 'application/octet-stream'],
  ['msgpack', 'application/x-msgpack'],
]);

export interface Negotiated {
  /** The matched media type, without parameters. */
  type: string;
}

/**
 * Tiled 0.2.16's data negotiation: `?format=` (comma list, aliases) else Accept split
 * on ','; parameters ignored; no q-values; the first supported type wins; `*\/*` or nothing → default.
 */
export function negotiate(request: FastifyRequest, query: Query, supported: readonly string[], fallback: string): Negotiated {
  const format = one(query, 'format');
  let requested: string[];
  if (format !== undefined && format !== '') {
    requested = format.split(',').map((f) => {
      const trimmed = f.trim();
      const alias = trimmed.toLowerCase();
      return FORMAT_ALIASES.get(alias) ?? EXTRA_ALIASES.get(alias) ?? trimmed;
    });
  } else {
    const accept = request.headers.accept;
    if (!accept) return { type: fallback };
    requested = String(accept).split(',').map((a) => a.trimStart());
  }
  for (const entry of requested) {
    const type = entry.split(';')[0].trim().toLowerCase();
    if (type === '*/*' || type === '') return { type: fallback };
    if (supported.includes(type)) return { type };
  }
  throw new TiledHttpError(
    406,
    `None of the media types requested by the client are supported. Supported: ${supported.join(', ')}. Requested: ${requested.join(', ')}.`,
  );
}

/** The Content-Type header as Tiled sends it: text types get the framework's charset. */
export function contentTypeHeader(type: string): string {
  return type.startsWith('text/') ? `${type}; charset=utf-8` : type;
}
