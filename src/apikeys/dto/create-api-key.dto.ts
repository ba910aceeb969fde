import { UnprocessableError } from '../../common/errors/tiled-http.error';
import { JsonSchema, nullable, stringList } from '../../common/validation/openapi-schema';

const NOTE_MAX = 1023;
const PATH_MAX = 1023;

/** Body of `POST /auth/apikey` and `POST /auth/principal/{uuid}/apikey` (Tiled's APIKeyRequestParams). */
export class CreateApiKeyDto {
  /** Tiled's `APIKeyRequestParams`, with this server's bounds (positive lifetime, note and path lengths) and `path`. */
  static readonly openApi: JsonSchema = {
    title: 'APIKeyRequestParams',
    type: 'object',
    properties: {
      expires_in: { ...nullable({ type: 'integer', exclusiveMinimum: 0 }), description: 'Seconds from now; null: never (or as long as the server allows)', example: 600 },
      scopes: { ...nullable(stringList), description: 'null means ["inherit"]: every scope of the owner', example: ['inherit'] },
      access_tags: { ...nullable(stringList), example: ['writing_tag', 'public'] },
      note: nullable({ type: 'string', maxLength: NOTE_MAX }),
      path: { ...nullable({ type: 'string', maxLength: PATH_MAX }), description: 'Bind the key to this subtree; null: the whole catalog' },
    },
  };

  /** Seconds from now; null means the key never expires (or lives as long as the server's cap allows). */
  expires_in!: number | null;
  /** null means `["inherit"]`. */
  scopes!: string[] | null;
  access_tags!: string[] | null;
  note!: string | null;
  /** Beyond Tiled: bind the key to this subtree (`/beamline/2026-03`), normalised to a leading slash; null: everywhere. */
  path!: string | null;

  /**
   * Validate like FastAPI/pydantic would, with the same 422 shapes (`loc`, `type`, `msg`, `input`), so
   * the Python client shows the same errors. Missing keys are accepted as null (Tiled requires them).
   */
  static parse(body: unknown): CreateApiKeyDto {
    const input = body ?? {};
    if (typeof input !== 'object' || Array.isArray(input)) {
      throw UnprocessableError.of(['body'], 'Input should be a valid dictionary or object to extract fields from', 'model_attributes_type', input);
    }
    const raw = input as Record<string, unknown>;
    const problems: { type: string; loc: (string | number)[]; msg: string; input?: unknown; ctx?: Record<string, unknown> }[] = [];
    const dto = new CreateApiKeyDto();
    dto.expires_in = parseExpiresIn(raw.expires_in, problems);
    dto.scopes = parseStringList('scopes', raw.scopes, problems);
    dto.access_tags = parseStringList('access_tags', raw.access_tags, problems);
    dto.note = parseNote(raw.note, problems);
    dto.path = parsePath(raw.path, problems);
    if (problems.length > 0) throw new UnprocessableError(problems);
    return dto;
  }
}

type Problems = { type: string; loc: (string | number)[]; msg: string; input?: unknown; ctx?: Record<string, unknown> }[];

function parseExpiresIn(value: unknown, problems: Problems): number | null {
  if (value === undefined || value === null) return null;
  const loc = ['body', 'expires_in'];
  let seconds: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !Number.isInteger(value)) {
      problems.push({ type: 'int_from_float', loc, msg: 'Input should be a valid integer, got a number with a fractional part', input: value });
      return null;
    }
    seconds = value;
  } else if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) {
    seconds = Number(value);
  } else if (typeof value === 'string') {
    problems.push({ type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input: value });
    return null;
  } else {
    problems.push({ type: 'int_type', loc, msg: 'Input should be a valid integer', input: value });
    return null;
  }
  // Tiled accepts zero and negative lifetimes and mints keys that are dead on arrival; we refuse them.
  if (seconds <= 0) {
    problems.push({ type: 'greater_than', loc, msg: 'Input should be greater than 0', input: value, ctx: { gt: 0 } });
    return null;
  }
  if (!Number.isSafeInteger(seconds)) {
    problems.push({ type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input: value });
    return null;
  }
  return seconds;
}

function parseStringList(field: string, value: unknown, problems: Problems): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    problems.push({ type: 'list_type', loc: ['body', field], msg: 'Input should be a valid list', input: value });
    return null;
  }
  let ok = true;
  value.forEach((item, index) => {
    if (typeof item !== 'string') {
      ok = false;
      problems.push({ type: 'string_type', loc: ['body', field, index], msg: 'Input should be a valid string', input: item });
    }
  });
  return ok ? (value as string[]) : null;
}


function parseNote(value: unknown, problems: Problems): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    problems.push({ type: 'string_type', loc: ['body', 'note'], msg: 'Input should be a valid string', input: value });
    return null;
  }
  if (value.length > NOTE_MAX) {
    problems.push({
      type: 'string_too_long',
      loc: ['body', 'note'],
      msg: `String should have at most ${NOTE_MAX} characters`,
      input: value,
      ctx: { max_length: NOTE_MAX },
    });
    return null;
  }
  return value;
}


/** `a/b`, `/a/b/` → `/a/b`; `/` or empty → null (the whole catalog). Dot segments are refused, not resolved. */
function parsePath(value: unknown, problems: Problems): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    problems.push({ type: 'string_type', loc: ['body', 'path'], msg: 'Input should be a valid string', input: value });
    return null;
  }
  if (value.length > PATH_MAX) {
    problems.push({ type: 'string_too_long', loc: ['body', 'path'], msg: `String should have at most ${PATH_MAX} characters`, input: value, ctx: { max_length: PATH_MAX } });
    return null;
  }
  const segments = splitKeyPath(value);
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    problems.push({ type: 'value_error', loc: ['body', 'path'], msg: "Value error, a key's path may not contain '.' or '..' segments", input: value });
    return null;
  }
  return segments.length ? `/${segments.join('/')}` : null;
}

/** A key's stored path as the segments the catalog walks. */
export function splitKeyPath(path: string): string[] {
  return path.split('/').filter(Boolean);
}
