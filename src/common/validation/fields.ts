import { UnprocessableError, ValidationProblem } from '../errors/tiled-http.error';

/**
 * Readers for request DTOs' `parse`, each reporting FastAPI's (pydantic 2's) problem for a bad value.
 * A `Fields` collects every problem of one input, so a 422 lists them all, as FastAPI does.
 */
export class Fields {
  readonly problems: ValidationProblem[] = [];
  private readonly source: ReadonlyMap<string, unknown>;

  /** `where` is FastAPI's first `loc` element: `body`, `query` or `path`. */
  constructor(
    private readonly where: 'body' | 'query' | 'path',
    private readonly input: unknown,
  ) {
    // A Map: a key named `constructor` or `__proto__` is a key like any other, not Object.prototype's.
    this.source = new Map(input !== null && typeof input === 'object' && !Array.isArray(input) ? Object.entries(input) : []);
  }

  /** The body must be a JSON object, else pydantic's `model_attributes_type` (an absent body echoes `null`). */
  static object(input: unknown): Fields {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw UnprocessableError.of(['body'], 'Input should be a valid dictionary or object to extract fields from', 'model_attributes_type', input ?? null);
    }
    return new Fields('body', input);
  }

  /** The raw value; a repeated query parameter arrives as a list, of which FastAPI takes the last. */
  raw(name: string): unknown {
    const value = this.source.get(name);
    return this.where === 'query' && Array.isArray(value) ? value[value.length - 1] : value;
  }

  /** A string that must be present and (for query parameters) non-empty. */
  requiredString(name: string): string {
    const value = this.raw(name);
    if (value === undefined || (this.where === 'query' && value === '')) {
      this.problems.push({ type: 'missing', loc: [this.where, name], msg: 'Field required', input: this.where === 'body' ? this.input : null });
      return '';
    }
    if (typeof value !== 'string') {
      this.problems.push({ type: 'string_type', loc: [this.where, name], msg: 'Input should be a valid string', input: value });
      return '';
    }
    return value;
  }

  /** A string if present; anything else (absent, other types) is `undefined`, for lenient fields. */
  optionalString(name: string): string | undefined {
    const value = this.raw(name);
    return typeof value === 'string' ? value : undefined;
  }

  /** A non-negative integer query parameter in [min, max], spelled `name` or its `alias`; `fallback` when absent. */
  integer(name: string, options: { alias?: string; fallback: number; min: number; max: number }): number {
    const spelled = this.raw(name) !== undefined || options.alias === undefined ? name : options.alias;
    const value = this.raw(spelled);
    if (value === undefined || value === '') return options.fallback;
    const loc = [this.where, spelled];
    if (typeof value !== 'string' || !/^\s*\d+\s*$/.test(value)) {
      if (typeof value === 'string' && /^\s*-\d+\s*$/.test(value)) {
        this.problems.push({ type: 'greater_than_equal', loc, msg: `Input should be greater than or equal to ${options.min}`, input: value, ctx: { ge: options.min } });
      } else {
        this.problems.push({ type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input: value });
      }
      return options.fallback;
    }
    const parsed = Number(value);
    if (parsed > options.max) {
      this.problems.push({ type: 'less_than_equal', loc, msg: `Input should be less than or equal to ${options.max}`, input: value, ctx: { le: options.max } });
      return options.fallback;
    }
    return parsed;
  }

  /** Throws the 422 if any reader found a problem; call once, after reading every field. */
  done(): void {
    if (this.problems.length > 0) throw new UnprocessableError(this.problems);
  }

}
