/**
 * The search request as data: what `filter[...]` and `sort` parameters decode to, before anything runs.
 * The in-memory path turns each filter into a predicate (filters.ts); trees that search in a database
 * translate the same values to SQL (src/catalog/writable/sql-search.ts). Keeping one representation is
 * what lets tests check that both give the same answer.
 */

export type ComparisonOperator = 'lt' | 'le' | 'gt' | 'ge';

export type Filter =
  /** Every whitespace-separated term is a whole word of some string in the metadata (case-insensitive). */
  | { readonly type: 'fulltext'; readonly text: string }
  | { readonly type: 'keys_filter'; readonly keys: readonly string[] }
  | { readonly type: 'regex'; readonly key: string; readonly pattern: string; readonly caseSensitive: boolean }
  | { readonly type: 'eq' | 'noteq'; readonly key: string; readonly value: unknown }
  | { readonly type: 'comparison'; readonly operator: ComparisonOperator; readonly key: string; readonly value: unknown }
  | { readonly type: 'contains'; readonly key: string; readonly value: unknown }
  | { readonly type: 'in' | 'notin'; readonly key: string; readonly value: readonly unknown[] }
  | { readonly type: 'keypresent'; readonly key: string; readonly exists: boolean }
  | { readonly type: 'like'; readonly key: string; readonly pattern: string }
  | { readonly type: 'specs'; readonly include: readonly string[]; readonly exclude: readonly string[] }
  | { readonly type: 'structure_family'; readonly value: string }
  /** Tiled's access-policy filter: the node's access blob names this user, or carries one of these tags. */
  | { readonly type: 'access_blob_filter'; readonly userId: string | null; readonly tags: readonly string[] };

export type FilterType = Filter['type'];

export interface SortKey {
  /** '' = the default (insertion) order. */
  key: string;
  direction: 1 | -1;
}

/** Whole words as the fulltext filter sees them: letters, digits and `_`. */
export const WORD = /^[\p{L}\p{N}_]+$/u;

/** The terms of a fulltext query, lower-cased; a term with any other character can match no word. */
export function fulltextTerms(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}
