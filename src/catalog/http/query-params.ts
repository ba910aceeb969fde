import type { FastifyRequest } from 'fastify';
import { TiledHttpError } from '../../common/errors/tiled-http.error';

/** The query string as Fastify parsed it: repeated keys become arrays, brackets stay literal. */
export type Query = Record<string, string | string[] | undefined>;

export function queryOf(request: FastifyRequest): Query {
  return (request.query ?? {}) as Query;
}

export function all(query: Query, name: string): string[] {
  const value = query[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** FastAPI uses the last value of a repeated scalar parameter. */
export function one(query: Query, name: string): string | undefined {
  const values = all(query, name);
  return values.length ? values[values.length - 1] : undefined;
}

interface Problem {
  type: string;
  loc: (string | number)[];
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

/** A FastAPI-shaped 422 naming the query parameter, as Tiled's client displays it. */
export function invalidQuery(name: string, type: string, msg: string, input: unknown, ctx?: Record<string, unknown>): TiledHttpError {
  const problem: Problem = { type, loc: ['query', name], msg, input };
  if (ctx) problem.ctx = ctx;
  return new TiledHttpError(422, [problem]);
}

export function missing(name: string): TiledHttpError {
  return invalidQuery(name, 'missing', 'Field required', null);
}

export function intParam(query: Query, name: string, bounds: { ge?: number; le?: number } = {}): number | undefined {
  const raw = one(query, name);
  if (raw === undefined) return undefined;
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) {
    throw invalidQuery(name, 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer', raw);
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw invalidQuery(name, 'int_parsing', 'Input should be a valid integer, unable to parse string as an integer', raw);
  if (bounds.ge !== undefined && value < bounds.ge) {
    throw invalidQuery(name, 'greater_than_equal', `Input should be greater than or equal to ${bounds.ge}`, raw, { ge: bounds.ge });
  }
  if (bounds.le !== undefined && value > bounds.le) {
    throw invalidQuery(name, 'less_than_equal', `Input should be less than or equal to ${bounds.le}`, raw, { le: bounds.le });
  }
  return value;
}

const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n']);

export function boolParam(query: Query, name: string, fallback = false): boolean {
  const raw = one(query, name);
  if (raw === undefined) return fallback;
  const lower = raw.trim().toLowerCase();
  if (TRUE.has(lower)) return true;
  if (FALSE.has(lower)) return false;
  throw invalidQuery(name, 'bool_parsing', 'Input should be a valid boolean, unable to interpret input', raw);
}

export function patternParam(query: Query, name: string, pattern: RegExp, patternText: string): string | undefined {
  const raw = one(query, name);
  if (raw === undefined) return undefined;
  if (!pattern.test(raw)) {
    throw invalidQuery(name, 'string_pattern_mismatch', `String should match pattern '${patternText}'`, raw, { pattern: patternText });
  }
  return raw;
}
