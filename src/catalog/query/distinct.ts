import { toJson } from '../../common/http/wire';
import type { ChildDistinctRequest, ChildDistinctResult, DistinctValue } from '../tree/tree.types';
import { dig } from './filters';
import type { Candidate } from './filters';

/** Distinct values in first-seen order; values are told apart by their JSON text, missing ones skipped. */
function tally(values: readonly unknown[], counts: boolean): DistinctValue[] {
  const seen = new Map<string, { value: unknown; count: number }>();
  for (const value of values) {
    if (value === undefined) continue;
    const id = toJson(value);
    const entry = seen.get(id);
    if (entry) entry.count++;
    else seen.set(id, { value, count: 1 });
  }
  return [...seen.values()].map((e) => ({ value: e.value, count: counts ? e.count : null }));
}

/** /distinct over children already filtered, in insertion order. */
export function distinctOf(
  matches: readonly Candidate[],
  request: Pick<ChildDistinctRequest, 'metadata' | 'structureFamilies' | 'specs' | 'counts'>,
): ChildDistinctResult {
  const { counts } = request;
  return {
    metadata: request.metadata.length ? Object.fromEntries(request.metadata.map((k) => [k, tally(matches.map((c) => dig(c.metadata, k)), counts)])) : null,
    structure_families: request.structureFamilies ? tally(matches.map((c) => c.family), counts) : null,
    specs: request.specs ? tally(matches.map((c) => c.specs.map((s) => ({ name: s.name, version: s.version }))), counts) : null,
  };
}
