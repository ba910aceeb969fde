import { ALL_SCOPES, PUBLIC_SCOPES, isScope } from '../auth/scopes';
import {
  ALL_ACCESS,
  AccessBlob,
  AccessCaller,
  AccessNode,
  AccessPolicy,
  AccessPolicyPlugin,
  AccessQuery,
  AccessRefusedError,
  BlobDecision,
  NO_ACCESS,
  PLUGIN_API_VERSION,
  PolicyReason,
  defineAccessPolicy,
} from '../plugins-api';
import { TagsDatabase, tagsDatabaseFile } from './tags-database';

export interface TagBasedArgs {
  provider: string;
  tags_db: { uri: string };
  /** Tiled's parser class; only Tiled's own is understood (the file format is what matters). */
  access_tags_parser?: string;
  scopes?: string[] | null;
}

const PUBLIC_TAG = 'public';
const UNREMOVABLE = ['read:metadata', 'write:metadata'];
const ADMIN_SCOPES = ['admin:apikeys'];
export const TILED_TAGS_PARSER = 'tiled.access_control.access_tags:AccessTagsParser';

/**
 * Tiled 0.2.16's TagBasedAccessPolicy over the compiled tags database: `{"user": id}` nodes belong to that
 * identity (all policy scopes, unless the key is tag-restricted); `{"tags": [...]}` nodes grant, per tag,
 * the scopes the database lists for the caller, `public` tags grant reading to everyone; a credential
 * holding `admin:apikeys` is an administrator and sees everything.
 */
export class TagBasedAccessPolicy implements AccessPolicy {
  private readonly scopes: ReadonlySet<string>;

  constructor(
    private readonly provider: string,
    private readonly tags: TagsDatabase,
    scopes: readonly string[] | null | undefined,
  ) {
    this.scopes = new Set(scopes ?? ALL_SCOPES);
  }

  /** The identity the tag database knows the caller by, or null (anonymous, or no identity from `provider`). */
  identifierOf(caller: AccessCaller): string | null {
    const principal = caller.principal;
    if (!principal) return null;
    if (principal.type === 'service') return principal.uuid;
    return principal.identities.find((identity) => identity.provider === this.provider)?.id ?? null;
  }

  private isAdmin(caller: AccessCaller): boolean {
    return ADMIN_SCOPES.every((scope) => caller.scopes.has(scope));
  }

  async allowedScopes(node: AccessNode, caller: AccessCaller): Promise<ReadonlySet<string>> {
    return this.decide(node, caller).allowed;
  }

  async explain(node: AccessNode, caller: AccessCaller): Promise<readonly PolicyReason[]> {
    return this.decide(node, caller).reasons;
  }

  private decide(node: AccessNode, caller: AccessCaller): { allowed: Set<string>; reasons: PolicyReason[] } {
    const blob = node.accessBlob;
    if (blob === undefined) return { allowed: new Set(this.scopes), reasons: [{ layer: 'node tags', granted: [...this.scopes], detail: 'no access blob governs this node' }] };
    if (this.isAdmin(caller)) return { allowed: new Set(this.scopes), reasons: [{ layer: 'admin', granted: [...this.scopes], detail: 'the credential holds admin:apikeys' }] };
    const identifier = this.identifierOf(caller);
    const allowed = new Set<string>();
    const reasons: PolicyReason[] = [];
    if (typeof blob.user === 'string') {
      if (identifier !== null && identifier === blob.user && caller.accessTags === null) {
        for (const scope of this.scopes) allowed.add(scope);
        reasons.push({ layer: 'owner', granted: [...this.scopes], detail: `the node belongs to ${identifier}` });
      } else if (identifier === blob.user) {
        reasons.push({ layer: 'key tags', granted: [], detail: 'the node is user-owned and the API key is restricted to access tags' });
      } else {
        reasons.push({ layer: 'owner', granted: [], detail: 'the node belongs to another user' });
      }
    } else if (Array.isArray(blob.tags)) {
      if (blob.tags.length === 0) reasons.push({ layer: 'node tags', granted: [], detail: 'the node has an empty tag list' });
      for (const tag of blob.tags) {
        if (typeof tag !== 'string') continue;
        if (caller.accessTags !== null && !caller.accessTags.has(tag)) {
          reasons.push({ layer: 'key tags', granted: [], detail: `tag ${tag}: not among the API key's access tags` });
          continue;
        }
        const granted = new Set<string>();
        if (this.tags.isTagPublic(tag)) for (const scope of PUBLIC_SCOPES) granted.add(scope);
        if (tag !== PUBLIC_TAG && this.tags.isTagDefined(tag) && identifier !== null) {
          const tagScopes = this.tags.scopesFromTag(tag, identifier);
          if ([...tagScopes].every((scope) => this.scopes.has(scope))) for (const scope of tagScopes) granted.add(scope);
        }
        for (const scope of granted) allowed.add(scope);
        const detail = !this.tags.isTagDefined(tag) && tag !== PUBLIC_TAG
          ? `tag ${tag}: not defined in the tags database`
          : granted.size === 0
            ? `tag ${tag}: grants ${identifier ?? 'anonymous callers'} nothing`
            : `tag ${tag}: grants ${[...granted].sort().join(' ')}${this.tags.isTagPublic(tag) ? ' (public)' : ''}`;
        reasons.push({ layer: 'node tags', granted: [...granted].sort(), detail });
      }
    } else {
      reasons.push({ layer: 'node tags', granted: [], detail: 'the access blob has neither "user" nor "tags"' });
    }
    return { allowed, reasons };
  }

  async filters(node: AccessNode, caller: AccessCaller, scopes: ReadonlySet<string>): Promise<readonly AccessQuery[] | typeof NO_ACCESS> {
    for (const scope of scopes) if (!this.scopes.has(scope)) return NO_ACCESS;
    let identifier: string | null = null;
    const tagList = new Set<string>();
    if (caller.principal) {
      if (caller.principal.type !== 'service' && this.isAdmin(caller)) return ALL_ACCESS;
      identifier = this.identifierOf(caller);
      if (identifier !== null) for (const tag of intersectAll([...scopes].map((scope) => this.tags.tagsFromScope(scope, identifier!)))) tagList.add(tag);
    }
    const readOnly = [...scopes].every((scope) => (PUBLIC_SCOPES as readonly string[]).includes(scope));
    if (readOnly && scopes.size > 0) for (const tag of this.tags.publicTags()) tagList.add(tag);
    if (caller.accessTags !== null) {
      identifier = null;
      for (const tag of [...tagList]) if (!caller.accessTags.has(tag)) tagList.delete(tag);
    }
    return [{ type: 'access_blob_filter', user_id: identifier, tags: [...tagList].sort() }];
  }

  async tagRefusal(tag: string, caller: AccessCaller): Promise<string | null> {
    if (this.isAdmin(caller)) return null;
    if (this.tags.isTagPublic(tag)) return null;
    if (!this.tags.isTagDefined(tag)) return `tag ${tag} is not defined`;
    const identifier = this.identifierOf(caller);
    if (identifier === null || this.tags.scopesFromTag(tag, identifier).size === 0) return `${identifier ?? 'this principal'} holds no scopes on tag ${tag}`;
    return null;
  }

  async initNode(caller: AccessCaller, accessBlob: AccessBlob | undefined): Promise<BlobDecision> {
    const identifier = this.requireIdentifier(caller);
    if (!accessBlob || Object.keys(accessBlob).length === 0) {
      if (caller.accessTags !== null) {
        throw new AccessRefusedError(
          `Cannot init node as user-owned node. Current API key does not permit action on user-owned nodes. Please provide a tag allowed by this API key: ${[...caller.accessTags].join(', ')}`,
        );
      }
      return { modified: true, accessBlob: { user: identifier } };
    }
    const tags = this.tagsOf(accessBlob);
    await this.checkApplied(tags, new Set(), caller, identifier, 'apply');
    return this.finish(tags, caller, identifier, 'Cannot init node with tags: operation does not grant necessary scopes.');
  }

  async modifyNode(node: AccessNode, caller: AccessCaller, accessBlob: AccessBlob | undefined): Promise<BlobDecision> {
    const identifier = this.requireIdentifier(caller);
    if (JSON.stringify(accessBlob) === JSON.stringify(node.accessBlob)) return { modified: false, accessBlob: node.accessBlob };
    const tags = this.tagsOf(accessBlob ?? {});
    const current = new Set(Array.isArray(node.accessBlob?.tags) ? (node.accessBlob!.tags as string[]) : []);
    await this.checkApplied(tags, current, caller, identifier, 'apply');
    const removed = new Set([...current].filter((tag) => !tags.has(tag)));
    await this.checkApplied(removed, new Set(), caller, identifier, 'remove');
    return this.finish(tags, caller, identifier, 'Cannot modify tags on node: operation removes unremovable scopes.');
  }

  private requireIdentifier(caller: AccessCaller): string {
    const identifier = this.identifierOf(caller);
    if (identifier === null) throw new AccessRefusedError(`The caller has no identity from provider ${this.provider}`);
    return identifier;
  }

  private tagsOf(accessBlob: AccessBlob): Set<string> {
    const keys = Object.keys(accessBlob);
    if (keys.length !== 1 || !Array.isArray(accessBlob.tags) || accessBlob.tags.some((t) => typeof t !== 'string')) {
      throw new AccessRefusedError(`access_blob must be in the form '{"tags": ["tag1", "tag2", ...]}'`);
    }
    return new Set(accessBlob.tags as string[]);
  }

  private async checkApplied(tags: Set<string>, already: Set<string>, caller: AccessCaller, identifier: string, verb: 'apply' | 'remove'): Promise<void> {
    const admin = this.isAdmin(caller);
    if (verb === 'apply' && tags.size === 0 && !admin) {
      throw new AccessRefusedError('Cannot apply empty tag list to node: only Tiled admins can apply an empty tag list.');
    }
    const where = verb === 'apply' ? 'to' : 'from';
    for (const tag of tags) {
      if (caller.accessTags !== null && !caller.accessTags.has(tag)) {
        throw new AccessRefusedError(`Cannot ${verb} tag ${where} node: API key is restricted to access tags: ${[...caller.accessTags].join(', ')}.`);
      }
      if (already.has(tag)) continue;
      if (tag.toLowerCase() === PUBLIC_TAG) {
        if (!admin) throw new AccessRefusedError(`Cannot ${verb} 'public' tag ${where} node: only Tiled admins can ${verb} the 'public' tag.`);
      } else if (!this.tags.isTagDefined(tag)) {
        throw new AccessRefusedError(`Cannot ${verb} tag ${where} node: tag='${tag}' is not defined`);
      } else if (!admin && !this.tags.isTagOwner(tag, identifier)) {
        throw new AccessRefusedError(`Cannot ${verb} tag ${where} node: user='${identifier}' is not an owner of tag='${tag}'`);
      }
    }
  }

  private finish(tags: Set<string>, caller: AccessCaller, identifier: string, refusal: string): BlobDecision {
    const normalized = new Set([...tags].map((tag) => (tag.toLowerCase() === PUBLIC_TAG ? PUBLIC_TAG : tag)));
    const accessBlob = { tags: [...normalized] };
    if (!this.isAdmin(caller)) {
      const granted = new Set<string>();
      for (const tag of normalized) for (const scope of this.tags.scopesFromTag(tag, identifier)) granted.add(scope);
      if (!UNREMOVABLE.every((scope) => granted.has(scope))) {
        throw new AccessRefusedError(`${refusal} The resulting access_blob would be: ${JSON.stringify(accessBlob)}; it does not confer ${UNREMOVABLE.join(', ')}.`);
      }
    }
    const modified = normalized.size !== tags.size || [...tags].some((tag) => !normalized.has(tag));
    return { modified, accessBlob };
  }
}

function intersectAll(sets: Set<string>[]): Set<string> {
  if (sets.length === 0) return new Set();
  const [first, ...rest] = sets;
  return new Set([...first].filter((item) => rest.every((set) => set.has(item))));
}

export const tagBasedPolicyPlugin: AccessPolicyPlugin<TagBasedArgs> = defineAccessPolicy<TagBasedArgs>({
  meta: { name: 'tag-based', version: '1.0.0', apiVersion: PLUGIN_API_VERSION },
  argsSchema: {
    type: 'object',
    required: ['provider', 'tags_db'],
    additionalProperties: false,
    properties: {
      provider: { type: 'string', minLength: 1 },
      tags_db: { type: 'object', required: ['uri'], additionalProperties: false, properties: { uri: { type: 'string', minLength: 1 } } },
      access_tags_parser: { type: 'string', enum: [TILED_TAGS_PARSER] },
      scopes: { type: ['array', 'null'], items: { type: 'string' } },
    },
  },
  create(args, context) {
    const unknown = (args.scopes ?? []).filter((scope) => !isScope(scope));
    if (unknown.length) throw new Error(`scopes: unknown scope(s) ${unknown.join(', ')}`);
    const tags = new TagsDatabase(tagsDatabaseFile(args.tags_db.uri, context.baseDir));
    context.logger.info(`tag-based access policy reads ${tags.file} (identities of provider ${args.provider})`);
    return new TagBasedAccessPolicy(args.provider, tags, args.scopes);
  },
});
