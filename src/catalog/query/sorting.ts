import { BadRequestError } from '../../common/errors/tiled-http.error';
import { invalidQuery } from '../http/query-params';
import { dig } from './filters';
import type { Candidate } from './filters';

import type { SortKey } from './filter-ast';

export type { SortKey } from './filter-ast';

const KEY_PATTERN = /^[a-zA-Z0-9_.]*$/;
/** Most sort keys one request may give; each is a sort of every child. */
export const MAX_SORT_KEYS = 64;

/** `sort=key`, `sort=+key`, `sort=-key`, as Tiled 0.2.16 reads them. */
export function parseSort(values: readonly string[]): SortKey[] {
  if (values.length > MAX_SORT_KEYS) throw new BadRequestError(`Too many sort keys: ${values.length}; at most ${MAX_SORT_KEYS} are accepted`);
  const out: SortKey[] = [];
  for (const raw of values) {
    if (raw === '') continue;
    // An unencoded '+' arrives as a space.
    const text = raw.replace(/^ /, '+');
    const direction = text.startsWith('-') ? -1 : 1;
    const key = text.startsWith('-') || text.startsWith('+') ? text.slice(1) : text;
    if (!KEY_PATTERN.test(key)) {
      throw invalidQuery('sort', 'string_pattern_mismatch', "String should match pattern '^[a-zA-Z0-9_.]*$'", raw, { pattern: '^[a-zA-Z0-9_.]*$' });
    }
    out.push({ key: key === '_' ? '' : key, direction });
  }
  const seen = new Set<string>();
  out.forEach((s, i) => {
    if (seen.has(s.key)) throw new BadRequestError(`Duplicate sorting key: ${s.key}`);
    seen.add(s.key);
    if (s.key === '' && i !== out.length - 1) throw new BadRequestError('Default sorting (empty string) must be the last item in the sort list');
  });
  return out;
}

const TYPE_ORDER: Readonly<Record<string, number>> = { boolean: 0, number: 0, string: 1, object: 2 };

function compareValues(a: unknown, b: unknown): number {
  if (a instanceof Date) a = a.getTime();
  if (b instanceof Date) b = b.getTime();
  const ta = TYPE_ORDER[typeof a] ?? 3;
  const tb = TYPE_ORDER[typeof b] ?? 3;
  if (ta !== tb) return ta - tb;
  if (typeof a === 'object') return JSON.stringify(a).localeCompare(JSON.stringify(b));
  const x = a as number | string;
  const y = b as number | string;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Stable sort by metadata keys; a missing value sorts after every present one, as Tiled's mapping adapter does. */
export function applySort(items: Candidate[], sorting: readonly SortKey[]): Candidate[] {
  let out = items;
  for (const { key, direction } of [...sorting].reverse()) {
    if (key === '') {
      if (direction < 0) out = [...out].reverse();
      continue;
    }
    const decorated = out.map((c, i) => ({ c, i, v: dig(c.metadata, key) }));
    decorated.sort((p, q) => {
      const pm = p.v === undefined;
      const qm = q.v === undefined;
      let r: number;
      if (pm || qm) r = pm && qm ? 0 : pm ? 1 : -1;
      else r = compareValues(p.v, q.v);
      return r !== 0 ? r * direction : p.i - q.i;
    });
    out = decorated.map((d) => d.c);
  }
  return out;
}
