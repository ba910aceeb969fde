import { EmptyExpressionError, JMESPathError, LexerError, ParseError, search } from '@aws-lambda-powertools/jmespath';
import { BadRequestError } from '../../common/errors/tiled-http.error';
import { Query, one } from '../http/query-params';
import type { Metadata } from '../tree/tree.types';

/*
 * `?select_metadata=<JMESPath>`, as in Tiled 0.2.16. The library is a port of jmespath.py, the engine
 * Tiled uses, so an expression means the same and fails where Tiled's fails; its errors mirror
 * jmespath.py's classes, and Tiled answers any JMESPathError with this 400.
 */

/** What a resource's metadata becomes: `{"selected": <result>}`, null when nothing matches. */
export type MetadataSelector = (metadata: Metadata) => { selected: unknown };

type SearchData = Parameters<typeof search>[1];

function malformed(error: JMESPathError): BadRequestError {
  return new BadRequestError(`Malformed 'select_metadata' parameter raised JMESPathError: ${error.message}`);
}

/** Longest `select_metadata` expression accepted, in characters. */
export const MAX_EXPRESSION_LENGTH = 1000;
/** Deepest nesting of brackets, parentheses, braces and `!` accepted: the library's parser recurses on each. */
export const MAX_EXPRESSION_DEPTH = 32;

/**
 * Bound the expression before the recursive-descent parser sees it: 3,000 `[` overflowed its stack. One
 * linear scan; characters inside quoted strings and identifiers count too, which only errs on the safe side.
 */
function checkBounds(expression: string): void {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw new BadRequestError(`'select_metadata' is too long: ${expression.length} characters; at most ${MAX_EXPRESSION_LENGTH} are accepted`);
  }
  let depth = 0;
  let nots = 0;
  for (const ch of expression) {
    if (ch === '[' || ch === '(' || ch === '{') depth++;
    else if (ch === ']' || ch === ')' || ch === '}') depth = Math.max(0, depth - 1);
    nots = ch === '!' ? nots + 1 : ch === ' ' ? nots : 0;
    if (depth + nots > MAX_EXPRESSION_DEPTH) {
      throw new BadRequestError(`'select_metadata' is nested too deeply; at most ${MAX_EXPRESSION_DEPTH} levels are accepted`);
    }
  }
}

/** Deep data or an unforeseen expression can still exhaust the stack; that is the client's 400, not a 500. */
function tooDeep(): BadRequestError {
  return new BadRequestError("'select_metadata' could not be evaluated: the expression or the metadata is nested too deeply");
}

/**
 * The library caches parses in a plain object keyed by the expression, so an expression spelled like an
 * Object.prototype member (`constructor`, `__proto__`) finds that member instead and crashes. Such
 * names are bare identifiers, and quoting one keeps its meaning.
 */
function cacheSafe(expression: string): string {
  return Object.hasOwn(Object.prototype, expression) ? JSON.stringify(expression) : expression;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The library looks keys up with `in`, which also finds inherited members (`sample.constructor` would
 * select a function); prototype-less copies hold only the metadata's own keys. Dates and other values
 * are kept, so a selected date is still written as a date.
 */
function ownKeysOnly(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ownKeysOnly);
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = Object.create(null);
  for (const [key, item] of Object.entries(value)) copy[key] = ownKeysOnly(item);
  return copy;
}

/** jmespath.py answers null where the library leaves undefined (an ordering of non-numbers), which JSON would drop. */
function withNulls(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(withNulls);
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[key] = withNulls(item);
  return copy;
}

/**
 * Parse `select_metadata` once per request, so a syntax error is a 400 before any resource is built.
 * Errors that depend on the data (a function given a value of the wrong type) can only surface per
 * resource, as the same 400.
 */
export function parseSelectMetadata(query: Query): MetadataSelector | null {
  const raw = one(query, 'select_metadata');
  if (raw === undefined) return null;
  checkBounds(raw);
  const expression = cacheSafe(raw);
  try {
    // The library has no public parse; it parses (and caches the parse) before it evaluates, so a run
    // against null reports every syntax error and nothing else that matters.
    search(expression, null);
  } catch (error) {
    if (error instanceof LexerError || error instanceof ParseError || error instanceof EmptyExpressionError) throw malformed(error);
    if (error instanceof RangeError) throw tooDeep();
    if (!(error instanceof JMESPathError)) throw error;
  }
  return (metadata) => {
    try {
      return { selected: withNulls(search(expression, ownKeysOnly(metadata) as SearchData)) };
    } catch (error) {
      if (error instanceof JMESPathError) throw malformed(error);
      if (error instanceof RangeError) throw tooDeep();
      throw error;
    }
  };
}
