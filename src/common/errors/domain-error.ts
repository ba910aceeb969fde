/**
 * A business-rule failure a service throws: a stable `code` (`apikeys.limit_reached`), the detail Tiled
 * shows, and any headers the answer needs. Services say *what* went wrong; the one exception filter
 * (`TiledExceptionFilter`) says how that looks over HTTP, looking the status up by code.
 */
export abstract class DomainError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    readonly detail: string | Readonly<Record<string, unknown>>,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(typeof detail === 'string' ? detail : code);
    this.name = new.target.name;
  }

  /** The status its module declared for the code; 500 for a code nobody declared (a bug, logged as one). */
  get status(): number {
    return STATUS_BY_CODE.get(this.code) ?? 500;
  }
}

const STATUS_BY_CODE = new Map<string, number>();

/**
 * Declare a module's error codes and the HTTP status of each, once, next to its error class. Codes are
 * `<module>.<name>`; declaring one twice is a programming error caught when the module loads.
 */
export function defineErrorCodes<const M extends string, const T extends Record<string, number>>(
  module: M,
  statuses: T,
): { readonly [K in keyof T & string]: `${M}.${K}` } {
  const codes: Record<string, string> = {};
  for (const [name, status] of Object.entries(statuses)) {
    const code = `${module}.${name}`;
    if (STATUS_BY_CODE.has(code)) throw new Error(`Error code ${code} is declared twice`);
    STATUS_BY_CODE.set(code, status);
    codes[name] = code;
  }
  return Object.freeze(codes) as { readonly [K in keyof T & string]: `${M}.${K}` };
}

/** The status declared for a code; undefined for a code nobody declared (the filter answers 500). */
export function statusOfErrorCode(code: string): number | undefined {
  return STATUS_BY_CODE.get(code);
}

/** The union of a module's codes, from what `defineErrorCodes` returned. */
export type ErrorCodeOf<T> = T[keyof T];
