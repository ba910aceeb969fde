import { Injectable, Logger } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { NotFoundError, UnprocessableError } from '../common/errors/tiled-http.error';
import { normalizeUuid, PrincipalJson, PrincipalsService } from '../principals/principals.service';

export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 300;

type Problem = { type: string; loc: (string | number)[]; msg: string; input?: unknown; ctx?: Record<string, unknown> };

/** The admin views of principals; rendering of a principal is the principals module's (one shape everywhere). */
@Injectable()
export class PrincipalsAdminService {
  private readonly logger = new Logger('Principals');

  constructor(private readonly principals: PrincipalsService) {}

  /**
   * Tiled reads `page[offset]`/`page[limit]`; its own Python client sends `offset`/`limit` (which Tiled
   * ignores). Both spellings are honoured here.
   */
  async list(query: Record<string, unknown>): Promise<PrincipalJson[]> {
    const problems: Problem[] = [];
    const offset = pageParameter(query, 'page[offset]', 'offset', 0, 0, Number.MAX_SAFE_INTEGER, problems);
    const limit = pageParameter(query, 'page[limit]', 'limit', DEFAULT_PAGE_LIMIT, 0, MAX_PAGE_LIMIT, problems);
    if (problems.length > 0) throw new UnprocessableError(problems);
    return this.principals.list(offset, limit);
  }

  async createService(auth: AuthContext, role: string | undefined): Promise<PrincipalJson> {
    if (role === undefined || role === '') {
      throw new UnprocessableError([{ type: 'missing', loc: ['query', 'role'], msg: 'Field required', input: null }]);
    }
    const principal = await this.principals.createService(role);
    this.logger.log(`${auth.principal?.uuid ?? 'anonymous'} created service principal ${principal.uuid} with role ${role}`);
    return this.principals.describe(principal.id);
  }

  async show(uuid: string): Promise<PrincipalJson> {
    const normalized = this.parseUuid(uuid);
    const principal = await this.principals.findByUuid(normalized);
    if (!principal) throw new NotFoundError(`No such Principal ${normalized}`);
    return this.principals.describe(principal.id);
  }

  /** Hyphenated or 32-hex; anything else is FastAPI's 422 `uuid_parsing`. */
  parseUuid(uuid: string): string {
    const normalized = normalizeUuid(uuid);
    if (normalized) return normalized;
    const bad = /[^0-9a-fA-F-]/.exec(uuid);
    const error = bad ? `invalid character: found \`${bad[0]}\` at ${bad.index}` : `invalid length: expected 32 hex digits, found ${uuid.replace(/-/g, '').length}`;
    const problem: Problem = { type: 'uuid_parsing', loc: ['path', 'uuid'], msg: `Input should be a valid UUID, ${error}`, input: uuid, ctx: { error } };
    throw new UnprocessableError([problem]);
  }
}

function pageParameter(
  query: Record<string, unknown>,
  name: string,
  alias: string,
  fallback: number,
  min: number,
  max: number,
  problems: Problem[],
): number {
  const raw = query[name] ?? query[alias];
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  if (value === undefined || value === '') return fallback;
  const loc = ['query', query[name] !== undefined ? name : alias];
  if (typeof value !== 'string' || !/^\s*\d+\s*$/.test(value)) {
    if (typeof value === 'string' && /^\s*-\d+\s*$/.test(value)) {
      problems.push({ type: 'greater_than_equal', loc, msg: `Input should be greater than or equal to ${min}`, input: value, ctx: { ge: min } });
    } else {
      problems.push({ type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input: value });
    }
    return fallback;
  }
  const parsed = Number(value);
  if (parsed > max) {
    problems.push({ type: 'less_than_equal', loc, msg: `Input should be less than or equal to ${max}`, input: value, ctx: { le: max } });
    return fallback;
  }
  return parsed;
}
