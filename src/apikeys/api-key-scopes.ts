import { INHERIT } from '../auth/scopes';

/**
 * A key's scopes for one request (Tiled `get_scopes_from_api_key`): its stored scopes cut down to what
 * the owner holds now; `inherit` then expands to all of the owner's scopes. `inherit` stays in the set.
 */
export function effectiveKeyScopes(stored: readonly string[], ownerScopes: ReadonlySet<string>): Set<string> {
  const result = new Set<string>();
  for (const scope of stored) if (scope === INHERIT || ownerScopes.has(scope)) result.add(scope);
  if (result.has(INHERIT)) for (const scope of ownerScopes) result.add(scope);
  return result;
}

/** Requested scopes with `inherit` replaced by what it would grant. */
export function resolveRequestedScopes(requested: readonly string[], ownerScopes: ReadonlySet<string>): Set<string> {
  const result = new Set<string>();
  for (const scope of requested) {
    if (scope === INHERIT) for (const owned of ownerScopes) result.add(owned);
    else result.add(scope);
  }
  return result;
}
