/**
 * An error that reaches the client as Tiled's `{"detail": …}` body, with its status.
 * Feature services throw their module's coded `DomainError` (src/common/errors/domain-error.ts); guards,
 * resolvers and the catalog may throw TiledHttpError and the generic subclasses below directly.
 */
export class TiledHttpError extends Error {
  readonly detail: unknown;

  constructor(
    readonly status: number,
    detail: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    // Never stringify the detail whole: a 422 may carry the request's own body, of any size and depth.
    super(typeof detail === 'string' ? detail : summary(detail));
    this.detail = Array.isArray(detail) ? detail.map(withBoundedInput) : detail;
    this.name = 'TiledHttpError';
  }
}

/** Largest echoed `input` of a validation problem, counted in values (nested ones included). */
export const MAX_ECHOED_VALUES = 1000;
/** Deepest echoed `input` of a validation problem. */
export const MAX_ECHOED_DEPTH = 16;
const OMITTED = '[input omitted: too large or too deeply nested to echo]';

function summary(detail: unknown): string {
  if (Array.isArray(detail) && detail.length && typeof (detail[0] as { msg?: unknown })?.msg === 'string') return (detail[0] as { msg: string }).msg;
  return 'Request error';
}

/**
 * FastAPI echoes the offending input in each 422 problem; this server does too, unless the input is
 * bigger than a person would read, which is then named rather than echoed. The walk is iterative and
 * stops at the bounds, so a body of 10,000 nested lists costs nothing and cannot overflow the stack.
 */
function withBoundedInput(problem: unknown): unknown {
  if (problem === null || typeof problem !== 'object' || !('input' in problem)) return problem;
  const input = (problem as { input: unknown }).input;
  return fitsEcho(input) ? problem : { ...problem, input: OMITTED };
}

function fitsEcho(value: unknown): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  let seen = 0;
  while (pending.length) {
    const [item, depth] = pending.pop()!;
    if (++seen > MAX_ECHOED_VALUES || depth > MAX_ECHOED_DEPTH) return false;
    if (typeof item === 'string' && item.length > 10 * MAX_ECHOED_VALUES) return false;
    if (item === null || typeof item !== 'object') continue;
    const children = Array.isArray(item) ? item : Object.values(item);
    if (children.length > MAX_ECHOED_VALUES) return false;
    for (const child of children) pending.push([child, depth + 1]);
  }
  return true;
}

export class NotFoundError extends TiledHttpError {
  constructor(detail: string) {
    super(404, detail);
  }
}

export class BadRequestError extends TiledHttpError {
  constructor(detail: string) {
    super(400, detail);
  }
}

export class ForbiddenError extends TiledHttpError {
  constructor(detail: string) {
    super(403, detail);
  }
}

/** One problem of a 422, as FastAPI (pydantic 2) reports it. */
export interface ValidationProblem {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

/** A 422 in FastAPI's shape, so the Python client's error display works unchanged. */
export class UnprocessableError extends TiledHttpError {
  constructor(problems: ValidationProblem[]) {
    super(422, problems);
  }

  static of(loc: (string | number)[], msg: string, type = 'value_error', input?: unknown): UnprocessableError {
    return new UnprocessableError([{ type, loc, msg, input }]);
  }
}

/** Render a list the way Python prints it, because Tiled's messages embed Python reprs. */
export function pyList(items: Iterable<string>): string {
  return `[${[...items].map((s) => `'${s}'`).join(', ')}]`;
}
