/**
 * An error that reaches the client as Tiled's `{"detail": …}` body.
 * Services throw subclasses of DomainError; guards and controllers may throw TiledHttpError directly.
 */
export class TiledHttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
    this.name = 'TiledHttpError';
  }
}

/** A business-rule failure; the status lives with the error so one filter maps them all. */
export abstract class DomainError extends TiledHttpError {}

export class NotFoundError extends DomainError {
  constructor(detail: string) {
    super(404, detail);
  }
}

export class BadRequestError extends DomainError {
  constructor(detail: string) {
    super(400, detail);
  }
}

export class ForbiddenError extends DomainError {
  constructor(detail: string) {
    super(403, detail);
  }
}

/** A 422 in FastAPI's shape, so the Python client's error display works unchanged. */
export class UnprocessableError extends DomainError {
  constructor(problems: { loc: (string | number)[]; msg: string; type: string; input?: unknown }[]) {
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
