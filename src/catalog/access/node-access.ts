import { Inject, Injectable, Logger } from '@nestjs/common';
import { ACCESS_POLICY } from '../../access/access-policy.token';
import { AllowAllPolicy } from '../../access/allow-all-policy';
import type { AuthContext } from '../../auth/auth-context';
import { ForbiddenError, NotFoundError, UnprocessableError, pyList } from '../../common/errors/tiled-http.error';
import { AccessBlob, AccessCaller, BlobDecision, AccessNode, AccessPolicy, AccessQuery, NO_ACCESS } from '../../plugins-api';
import type { TreeNode } from '../tree/tree.types';
import { catalogHandle } from '../writable/catalog-handle';

/** What one request may see: built once per request, consulted at every path step and every listing. */
export interface RequestAccess {
  caller: AccessCaller;
  /** The subtree an API key is bound to; empty: the whole catalog. */
  keyPath: readonly string[];
  /** Who, for refusal log lines (never a secret). */
  who: string;
}

/** A container's children as the caller may see them with some scopes: everything, nothing, or those the queries accept. */
export type ChildFilter = { kind: 'all' } | { kind: 'none' } | { kind: 'queries'; queries: readonly AccessQuery[] };

const READ_METADATA: ReadonlySet<string> = new Set(['read:metadata']);
const ALL: ChildFilter = { kind: 'all' };

/**
 * A node's own blob, or the one it inherits from its nearest ancestor that has one. A catalog's root has
 * no row: its blob is the configured `top_level_access_blob`, as in Tiled. Without one it shows Tiled's `{}`
 * but governs nothing (docs/access-control.md), so a policy filters the catalog's children rather than
 * hiding the whole catalog from everyone but admins.
 */
export function effectiveBlob(node: TreeNode, inherited: AccessBlob | undefined): AccessBlob | undefined {
  const handle = catalogHandle(node);
  if (handle && handle.row === null) return handle.context.root.accessBlob ?? inherited;
  return node.accessBlob ?? inherited;
}

/** Evaluate Tiled's access_blob_filter in memory, as a SQL catalog would in its WHERE clause. */
export function blobPasses(blob: AccessBlob | undefined, queries: readonly AccessQuery[]): boolean {
  if (blob === undefined) return true;
  for (const query of queries) {
    if (query.type !== 'access_blob_filter') return false;
    const userMatch = query.user_id !== null && blob.user === query.user_id;
    const tags = blob.tags;
    const tagMatch = Array.isArray(tags) && tags.some((tag) => typeof tag === 'string' && query.tags.includes(tag));
    if (!userMatch && !tagMatch) return false;
  }
  return true;
}

export function passes(filter: ChildFilter, blob: AccessBlob | undefined): boolean {
  if (filter.kind === 'all') return true;
  if (filter.kind === 'none') return false;
  return blobPasses(blob, filter.queries);
}

/**
 * The one place catalog reads meet the access policy: which children a caller may see (the policy's
 * `filters`, evaluated here for in-memory trees), the per-node scope check after lookup (the policy's
 * `allowedScopes` ∩ the credential's scopes), and an API key's subtree. With the allow-all policy and no
 * subtree, `forRequest` returns null and reads take the unfiltered path (no cost, shared caches).
 */
@Injectable()
export class NodeAccessService {
  private readonly logger = new Logger('Access');
  private readonly open: boolean;

  constructor(@Inject(ACCESS_POLICY) readonly policy: AccessPolicy) {
    this.open = policy instanceof AllowAllPolicy;
  }

  forRequest(auth: AuthContext | undefined): RequestAccess | null {
    const keyPath = auth?.keyPath ?? [];
    if (this.open && keyPath.length === 0) return null;
    return {
      caller: {
        principal: auth?.principal ?? null,
        accessTags: auth?.accessTags ?? null,
        scopes: auth?.scopes ?? new Set(),
      },
      keyPath,
      who: whoOf(auth),
    };
  }

  /** Which children of `node` (governed by `blob`) the caller may see with `scopes`. */
  async childFilter(access: RequestAccess | null, node: TreeNode, path: readonly string[], blob: AccessBlob | undefined, scopes: ReadonlySet<string> = READ_METADATA): Promise<ChildFilter> {
    if (!access) return ALL;
    const queries = await this.policy.filters(accessNode(node, path, blob), access.caller, scopes);
    if (queries === NO_ACCESS) return { kind: 'none' };
    return queries.length === 0 ? ALL : { kind: 'queries', queries };
  }

  /** A cache-key part naming what a filter lets through (documents built under different filters differ). */
  static viewKey(filter: ChildFilter): string {
    return filter.kind === 'queries' ? JSON.stringify(filter.queries) : filter.kind;
  }

  /** May the lookup step from the node at `path` to its child `key` at all, given the key's subtree? */
  withinKeyPath(access: RequestAccess | null, depth: number, key: string): boolean {
    if (!access || depth >= access.keyPath.length) return true;
    return access.keyPath[depth] === key;
  }

  /**
   * After lookup (Tiled's `get_entry`): the route's scopes must be allowed on this node. Without
   * `read:metadata` the node does not exist for the caller (404, as if missing); otherwise 403.
   */
  async checkNode(access: RequestAccess | null, node: TreeNode, path: readonly string[], blob: AccessBlob | undefined, required: readonly string[]): Promise<void> {
    if (!access) return;
    if (path.length < access.keyPath.length) {
      this.refused(access, path, required, 'key subtree', `outside the API key's subtree /${access.keyPath.join('/')}`);
      throw new NotFoundError(`No such entry: ${pyList(path)}`);
    }
    const allowed = await this.allowedOn(access, node, path, blob);
    const missing = required.filter((scope) => !allowed.has(scope));
    if (missing.length === 0) return;
    const why = await this.policyReasons(access, node, path, blob);
    if (!allowed.has('read:metadata')) {
      this.refused(access, path, required, why.layer, `no read:metadata on it${why.detail}`);
      throw new NotFoundError(`No such entry: ${pyList(path)}`);
    }
    this.refused(access, path, required, why.layer, `the policy and credential together grant only ${[...allowed].sort().join(' ') || 'nothing'}${why.detail}`);
    throw new ForbiddenError(
      `Not enough permissions to perform this action on this node. Requires scopes ${pyList(required)}. Principal had scopes ${pyList([...allowed].sort())} on this node.`,
    );
  }

  /** The policy's scopes on the node, intersected with what the credential itself may do. */
  async allowedOn(access: RequestAccess, node: TreeNode, path: readonly string[], blob: AccessBlob | undefined): Promise<Set<string>> {
    const byPolicy = await this.policy.allowedScopes(accessNode(node, path, blob), access.caller);
    return new Set([...byPolicy].filter((scope) => access.caller.scopes.has(scope)));
  }

  /** A hidden step during lookup: logged with its reason, answered exactly like a missing one. */
  hiddenStep(access: RequestAccess, path: readonly string[], reason: string): void {
    this.refused(access, path, ['read:metadata'], reason.startsWith('outside') ? 'key subtree' : 'lookup', reason);
  }

  /**
   * The blob a node created by this request gets (Tiled's `init_node`). Without a policy (allow-all)
   * every new node gets `{}`, as Tiled stores it; `modified` says the answer differs from the request.
   */
  async initBlob(access: RequestAccess | null, requested: unknown): Promise<{ modified: boolean; accessBlob: AccessBlob }> {
    if (!access || this.open) return { modified: !isEmptyObject(requested), accessBlob: {} };
    const asked = requested == null ? undefined : requireBlob(requested);
    const decision = await this.policyDecision(access, 'init', () => this.policy.initNode(access.caller, asked));
    return { modified: decision.modified, accessBlob: decision.accessBlob ?? {} };
  }

  /**
   * The blob a metadata update leaves on a node (Tiled's `modify_node`): `requested` undefined keeps the
   * stored one. Without a policy, or with one that has no `modifyNode`, the stored blob is kept and echoed.
   */
  async modifyBlob(access: RequestAccess | null, node: TreeNode, path: readonly string[], stored: AccessBlob, requested: unknown): Promise<{ modified: boolean; accessBlob: AccessBlob }> {
    const same = requested === undefined || JSON.stringify(requested) === JSON.stringify(stored);
    if (!access || this.open || !this.policy.modifyNode || same) return { modified: !same, accessBlob: stored };
    const asked = requireBlob(requested);
    const decision = await this.policyDecision(access, 'modify', () => this.policy.modifyNode!(accessNode(node, path, stored), access.caller, asked));
    return { modified: decision.modified, accessBlob: decision.accessBlob ?? {} };
  }

  /** A policy's refusal (Tiled's ValueError) is the caller's 403, with the policy's words, as Tiled words it. */
  private async policyDecision(access: RequestAccess, what: string, decide: () => Promise<BlobDecision>): Promise<BlobDecision> {
    try {
      return await decide();
    } catch (error) {
      // By name: a policy module may bundle its own copy of the plugin API.
      if (!(error instanceof Error) || error.name !== 'AccessRefusedError') throw error;
      this.logger.warn(`Refused to ${what} an access blob for ${access.who} by policy: ${error.message}`);
      throw new ForbiddenError(`Access policy rejects the provided access blob.\n${error.message}`);
    }
  }

  /** The refusing layer and the policy's own words, as `GET /auth/explain` gives them. */
  private async policyReasons(access: RequestAccess, node: TreeNode, path: readonly string[], blob: AccessBlob | undefined): Promise<{ layer: string; detail: string }> {
    if (!this.policy.explain) return { layer: 'policy', detail: '' };
    const reasons = await this.policy.explain(accessNode(node, path, blob), access.caller);
    const layer = reasons.find((reason) => reason.layer === 'key tags')?.layer ?? reasons[0]?.layer ?? 'policy';
    return { layer, detail: reasons.length ? ` (${reasons.map((reason) => reason.detail).join('; ')})` : '' };
  }

  private refused(access: RequestAccess, path: readonly string[], scopes: readonly string[], layer: string, reason: string): void {
    this.logger.warn(`Refused ${scopes.join(' ')} on /${path.join('/')} to ${access.who} by ${layer}: ${reason}`);
  }
}

function isEmptyObject(value: unknown): boolean {
  return value == null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0);
}

function requireBlob(value: unknown): AccessBlob {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UnprocessableError([{ type: 'dict_type', loc: ['body', 'access_blob'], msg: 'Input should be a valid dictionary', input: value }]);
  }
  return value as AccessBlob;
}

export function accessNode(node: TreeNode, path: readonly string[], blob: AccessBlob | undefined): AccessNode {
  return { path, family: node.family, accessBlob: blob };
}

function whoOf(auth: AuthContext | undefined): string {
  if (!auth) return 'anon';
  const principal = auth.principal;
  let who = principal ? (principal.identities[0] ? `${principal.identities[0].provider}:${principal.identities[0].id}` : `service:${principal.uuid}`) : auth.via === 'single-user' ? 'singleuser' : 'anon';
  if (auth.apiKeyFirstEight) who += ` (API key ${auth.apiKeyFirstEight}…)`;
  return who;
}
