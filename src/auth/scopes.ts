/**
 * The one registry of scopes (Tiled 0.2.16 `tiled/access_control/scopes.py`).
 * Scopes that come from YAML, tokens or API-key requests are checked against it.
 */
export const SCOPES = {
  'read:metadata': 'List and search metadata',
  'read:data': 'Fetch (array, table, ...) data',
  'write:metadata': 'Write metadata',
  'write:data': 'Write data',
  'delete:revision': 'Delete metadata revisions',
  'delete:node': 'Delete a node',
  'create:node': 'Add a node',
  register: 'Register externally-managed assets',
  metrics: 'Access (Prometheus) metrics',
  'create:apikeys': 'Create API keys on behalf of the current principal',
  'revoke:apikeys': 'Revoke API keys belonging to the current principal',
  'admin:apikeys': 'Create and revoke API keys on behalf of any principal',
  'read:principals': 'Read list of all users and services and their attributes',
  'write:principals': 'Edit list of all users and services and their attributes',
  'read:webhooks': 'Read webhook registrations and delivery history',
  'write:webhooks': 'Register and delete webhooks',
} as const;

export type Scope = keyof typeof SCOPES;

export const ALL_SCOPES: readonly Scope[] = Object.keys(SCOPES) as Scope[];

/** The API-key meta-scope: "whatever my owner has, now". Not a scope of its own. */
export const INHERIT = 'inherit';

export const PUBLIC_SCOPES: readonly Scope[] = ['read:metadata', 'read:data'];

/** Single-user mode has no principals, so no key or principal management scopes. */
export const SINGLE_USER_SCOPES: readonly Scope[] = [
  'read:metadata',
  'read:data',
  'write:metadata',
  'write:data',
  'delete:revision',
  'delete:node',
  'create:node',
  'register',
  'metrics',
  'read:webhooks',
  'write:webhooks',
];

export function isScope(name: string): name is Scope {
  return Object.prototype.hasOwnProperty.call(SCOPES, name);
}
