/**
 * The public access-policy API: decides, per node, what a caller may see and do (Tiled 0.2.16's
 * `AccessPolicy` protocol with its hooks `allowed_scopes`, `filters`, `init_node`, `modify_node`).
 *
 * A policy module exports (default, or a named export referenced as `module:ExportName` in
 * `access_control.access_policy`) an {@link AccessPolicyPlugin}. The host validates `access_control.args`
 * against its JSON Schema and calls `create(args, context)` once at startup.
 *
 * Filters are data, not callbacks: {@link AccessQuery} values that the in-memory trees evaluate and a SQL
 * catalog can translate into a WHERE clause, so one policy serves both.
 * @since 1
 */
import type { JsonSchema, PluginLogger } from './index';

/** What a node says about who may reach it: Tiled's `{"user": id}` or `{"tags": [...]}` (other shapes are kept as given). @since 1 */
export type AccessBlob = Readonly<Record<string, unknown>>;

/** The principal behind a request, as the policy sees it; null for anonymous and single-user callers. @since 1 */
export interface AccessPrincipal {
  uuid: string;
  type: 'user' | 'service';
  identities: readonly { id: string; provider: string }[];
}

/** Who is asking: principal, the credential's scopes and, for an API key restricted by tags, those tags. @since 1 */
export interface AccessCaller {
  principal: AccessPrincipal | null;
  /** `authn_access_tags`: null unless the caller presented an API key created with `access_tags`. */
  accessTags: ReadonlySet<string> | null;
  /** `authn_scopes`: what the credential itself may do, before any per-node rule. */
  scopes: ReadonlySet<string>;
}

/** The node a hook is asked about. `accessBlob` is the blob that governs it (its own, or inherited from its nearest ancestor). @since 1 */
export interface AccessNode {
  readonly path: readonly string[];
  readonly family: string;
  /** Undefined: nothing governs this node (Tiled's adapters without `access_blob`). */
  readonly accessBlob: AccessBlob | undefined;
}

/**
 * Tiled's `AccessBlobFilter`: a child passes if its blob's `user` equals `user_id` (when not null) or its
 * `tags` share any element with `tags`. Both empty: nothing passes. A child that no blob governs passes.
 * @since 1
 */
export interface AccessBlobFilterQuery {
  type: 'access_blob_filter';
  user_id: string | null;
  tags: readonly string[];
}

/** The queries a `filters` hook may return. @since 1 */
export type AccessQuery = AccessBlobFilterQuery;

/** Returned by `filters`: the caller may see none of this container's children (Tiled's `NO_ACCESS`). @since 1 */
export const NO_ACCESS: unique symbol = Symbol.for('tiled-ts.NO_ACCESS');

/** Returned by `filters`: no restriction (Tiled's `ALL_ACCESS`, an empty list). @since 1 */
export const ALL_ACCESS: readonly AccessQuery[] = Object.freeze([]);

/** `init_node` / `modify_node` answer: whether the policy changed the blob, and the blob to store. @since 1 */
export interface BlobDecision {
  modified: boolean;
  accessBlob: AccessBlob | undefined;
}

/** Thrown by `initNode` / `modifyNode` to refuse a blob; the host answers 403 with the message. @since 1 */
export class AccessRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccessRefusedError';
  }
}

/** One line of an explanation: which rule granted or withheld scopes. @since 1 */
export interface PolicyReason {
  /** e.g. `node tags`, `owner`, `admin`, `public tag`. */
  layer: string;
  granted: readonly string[];
  detail: string;
}

/** An access policy: every hook is async so a policy may ask a service (Tiled's external decision point). @since 1 */
export interface AccessPolicy {
  /** Scopes the caller has on this node by the policy (intersected by the host with the credential's scopes). */
  allowedScopes(node: AccessNode, caller: AccessCaller): Promise<ReadonlySet<string>>;
  /** Which children of `node` the caller may see when it needs `scopes` on them. */
  filters(node: AccessNode, caller: AccessCaller, scopes: ReadonlySet<string>): Promise<readonly AccessQuery[] | typeof NO_ACCESS>;
  /** The blob a new node gets; throw {@link AccessRefusedError} to refuse. */
  initNode(caller: AccessCaller, accessBlob: AccessBlob | undefined): Promise<BlobDecision>;
  /** A changed blob on an existing node; default (absent): unchanged blobs only. */
  modifyNode?(node: AccessNode, caller: AccessCaller, accessBlob: AccessBlob | undefined): Promise<BlobDecision>;
  /** Optional: why `allowedScopes` answered as it did, for `GET /auth/explain`. Must not mention other nodes. */
  explain?(node: AccessNode, caller: AccessCaller): Promise<readonly PolicyReason[]>;
  /** Optional: may the key owner `caller` restrict a key to `tag`? Absent: any tag. Return the reason it may not. */
  tagRefusal?(tag: string, caller: AccessCaller): Promise<string | null>;
  /** Optional: release files or connections at shutdown. */
  close?(): Promise<void> | void;
}

/** What the host gives a policy besides its args. @since 1 */
export interface AccessPolicyContext {
  logger: PluginLogger;
  /** The config file's directory: relative paths in `args` that are not found from the working directory resolve here. */
  baseDir: string;
  fetch: typeof fetch;
}

/** What a policy module exports. @since 1 */
export interface AccessPolicyPlugin<Args = Record<string, unknown>> {
  meta: { name: string; version: string; apiVersion: number };
  argsSchema: JsonSchema;
  create(args: Args, context: AccessPolicyContext): AccessPolicy | Promise<AccessPolicy>;
}

/** Identity function that gives a policy descriptor its type. @since 1 */
export function defineAccessPolicy<Args>(plugin: AccessPolicyPlugin<Args>): AccessPolicyPlugin<Args> {
  return plugin;
}
