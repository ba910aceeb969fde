import {
  AccessBlob,
  AccessCaller,
  AccessNode,
  AccessPolicy,
  AccessPolicyContext,
  AccessPolicyPlugin,
  AccessQuery,
  AccessRefusedError,
  BlobDecision,
  NO_ACCESS,
  PLUGIN_API_VERSION,
  PluginLogger,
  defineAccessPolicy,
} from '../plugins-api';

export interface ExternalPdpArgs {
  authorization_provider: string;
  create_node_endpoint: string;
  allowed_tags_endpoint: string;
  scopes_endpoint: string;
  modify_node_endpoint?: string | null;
  provider?: string | null;
  empty_access_blob_public?: boolean | null;
  /** Sent as `input.audience`, as Tiled's Open Policy Agent example does. */
  audience?: string | null;
  /** Milliseconds to wait for the decision point; a late answer counts as "no". Default 5000. */
  timeout_ms?: number;
}

/** How long one decision is reused for the same question (a request asks `filters` at every path step). */
const DECISION_TTL_MS = 2000;
const MAX_CACHED = 10_000;

/**
 * Tiled 0.2.16's ExternalPolicyDecisionPoint: every hook is a POST to an endpoint of a policy service
 * (Open Policy Agent, say) whose JSON answer is `{"result": …}` — a boolean for node creation and
 * modification, a list of tags for `filters`, a list of scopes for `allowedScopes`. Tiled leaves the request
 * body to a subclass; this one sends `{"input": {…}}` (docs/access-control.md). Anything but a well-formed
 * answer — an error status, a timeout, another shape — refuses (no tags, no scopes), and is logged.
 */
export class ExternalPdpPolicy implements AccessPolicy {
  private readonly decisions = new Map<string, { at: number; value: unknown }>();

  constructor(
    private readonly args: ExternalPdpArgs,
    private readonly http: typeof fetch,
    private readonly logger: PluginLogger,
  ) {}

  private url(endpoint: string): string {
    return `${this.args.authorization_provider}${endpoint}`;
  }

  /** The request body: who asks, with what credential limits, about which blob. */
  buildInput(caller: AccessCaller, accessBlob?: AccessBlob): string {
    const principal = caller.principal;
    const identity = principal && this.args.provider ? (principal.identities.find((i) => i.provider === this.args.provider)?.id ?? null) : null;
    const input: Record<string, unknown> = {
      ...(this.args.audience ? { audience: this.args.audience } : {}),
      principal: principal ? { uuid: principal.uuid, type: principal.type, identities: principal.identities } : null,
      ...(this.args.provider ? { identity } : {}),
      scopes: [...caller.scopes].sort(),
      access_tags: caller.accessTags ? [...caller.accessTags].sort() : null,
      ...(accessBlob ?? {}),
    };
    return JSON.stringify({ input });
  }

  private async decide(endpoint: string, body: string): Promise<unknown> {
    const key = `${endpoint}\u0000${body}`;
    const now = Date.now();
    const hit = this.decisions.get(key);
    if (hit && now - hit.at < DECISION_TTL_MS) return hit.value;
    let value: unknown;
    try {
      const response = await this.http(this.url(endpoint), {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        signal: AbortSignal.timeout(this.args.timeout_ms ?? 5000),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const parsed = (await response.json()) as unknown;
      value = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as { result?: unknown }).result : undefined;
    } catch (error) {
      this.logger.warn(`Decision point ${endpoint} gave no answer (refusing): ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
    if (this.decisions.size >= MAX_CACHED) this.decisions.clear();
    this.decisions.set(key, { at: now, value });
    return value;
  }

  async filters(_node: AccessNode, caller: AccessCaller): Promise<readonly AccessQuery[] | typeof NO_ACCESS> {
    const tags = await this.decide(this.args.allowed_tags_endpoint, this.buildInput(caller));
    if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) return NO_ACCESS;
    return [{ type: 'access_blob_filter', user_id: null, tags: tags as string[] }];
  }

  async allowedScopes(node: AccessNode, caller: AccessCaller): Promise<ReadonlySet<string>> {
    const scopes = await this.decide(this.args.scopes_endpoint, this.buildInput(caller, node.accessBlob));
    if (!Array.isArray(scopes)) return new Set();
    return new Set(scopes.filter((scope): scope is string => typeof scope === 'string'));
  }

  async initNode(caller: AccessCaller, accessBlob: AccessBlob | undefined): Promise<BlobDecision> {
    if (accessBlob === undefined && typeof this.args.empty_access_blob_public === 'boolean') {
      return { modified: this.args.empty_access_blob_public, accessBlob };
    }
    return this.yesOrNo(this.args.create_node_endpoint, caller, accessBlob);
  }

  async modifyNode(node: AccessNode, caller: AccessCaller, accessBlob: AccessBlob | undefined): Promise<BlobDecision> {
    if (JSON.stringify(accessBlob) === JSON.stringify(node.accessBlob)) return { modified: false, accessBlob: node.accessBlob };
    return this.yesOrNo(this.args.modify_node_endpoint ?? this.args.create_node_endpoint, caller, accessBlob);
  }

  private async yesOrNo(endpoint: string, caller: AccessCaller, accessBlob: AccessBlob | undefined): Promise<BlobDecision> {
    const decision = await this.decide(endpoint, this.buildInput(caller, accessBlob));
    if (typeof decision === 'boolean') return { modified: decision, accessBlob };
    throw new AccessRefusedError('Permission denied not able to add the node');
  }
}

export const externalPdpPolicyPlugin: AccessPolicyPlugin<ExternalPdpArgs> = defineAccessPolicy<ExternalPdpArgs>({
  meta: { name: 'external-pdp', version: '1.0.0', apiVersion: PLUGIN_API_VERSION },
  argsSchema: {
    type: 'object',
    required: ['authorization_provider', 'create_node_endpoint', 'allowed_tags_endpoint', 'scopes_endpoint'],
    additionalProperties: false,
    properties: {
      authorization_provider: { type: 'string', pattern: '^https?://' },
      create_node_endpoint: { type: 'string' },
      allowed_tags_endpoint: { type: 'string' },
      scopes_endpoint: { type: 'string' },
      modify_node_endpoint: { type: ['string', 'null'] },
      provider: { type: ['string', 'null'] },
      empty_access_blob_public: { type: ['boolean', 'null'] },
      audience: { type: ['string', 'null'] },
      timeout_ms: { type: 'integer', minimum: 1, maximum: 60000 },
    },
  },
  create: (args: ExternalPdpArgs, context: AccessPolicyContext) => new ExternalPdpPolicy(args, context.fetch, context.logger),
});
