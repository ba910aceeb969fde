import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../../auth/auth-context';
import type { Scope } from '../../auth/scopes';
import { NotFoundError, pyList } from '../../common/errors/tiled-http.error';
import { CatalogService } from '../catalog.service';
import { accessNode } from './node-access';

/** The layers `GET /auth/explain` names (docs/access-control.md, "The layers a request goes through"). */
export const EXPLAIN_LAYERS = ['key scopes', 'role', 'key subtree', 'lookup', 'key tags', 'node tags', 'owner', 'admin', 'policy'] as const;

/** One layer's verdict, in the order they are consulted. */
export interface ExplainLayer {
  layer: (typeof EXPLAIN_LAYERS)[number];
  outcome: 'allowed' | 'refused';
  detail: string;
}

/** `GET /api/v1/auth/explain` (docs/access-control.md): may the caller use `scope` on `path`, and which layer decided. */
export interface Explanation {
  path: string;
  scope: string;
  allowed: boolean;
  /** The layer that refused, or the one that granted. */
  decided_by: ExplainLayer['layer'];
  reason: string;
  layers: ExplainLayer[];
}

/**
 * Answers "why was I refused?" by consulting the same layers a request goes through, in the same order,
 * and stopping at the first refusal. A node the caller may not see is explained with exactly the words a
 * missing one gets ("No such entry"), so the answer never reveals what is hidden.
 */
@Injectable()
export class ExplainService {
  constructor(private readonly catalog: CatalogService) {}

  /** `path` and `scope` come checked from `ExplainQueryDto`. */
  async explain(auth: AuthContext, path: string, scope: Scope): Promise<Explanation> {
    const segments = path.split('/').filter(Boolean);
    const shown = `/${segments.join('/')}`;
    const layers: ExplainLayer[] = [];
    const done = (allowed: boolean, decidedBy: ExplainLayer['layer'], reason: string): Explanation => ({ path: shown, scope, allowed, decided_by: decidedBy, reason, layers });

    const credentialLayer = auth.via === 'apikey' ? 'key scopes' : 'role';
    const held = [...auth.scopes].filter((s) => s !== 'inherit').sort();
    if (!auth.scopes.has(scope)) {
      const detail = auth.via === 'apikey'
        ? `the API key's scopes (${held.join(' ') || 'none'}) do not include ${scope}`
        : `the credential's scopes, from the principal's roles (${held.join(' ') || 'none'}), do not include ${scope}`;
      layers.push({ layer: credentialLayer, outcome: 'refused', detail });
      return done(false, credentialLayer, detail);
    }
    layers.push({ layer: credentialLayer, outcome: 'allowed', detail: `the credential holds ${scope}` });

    const keyPath = auth.keyPath ?? [];
    if (keyPath.length) {
      const inside = segments.length >= keyPath.length && keyPath.every((segment, i) => segments[i] === segment);
      const detail = `the API key is bound to /${keyPath.join('/')}; ${shown} is ${inside ? 'inside' : 'outside'} it`;
      layers.push({ layer: 'key subtree', outcome: inside ? 'allowed' : 'refused', detail });
      if (!inside) return done(false, 'key subtree', detail);
    }

    const access = this.catalog.access.forRequest(auth);
    const notFound = `No such entry: ${pyList(segments)}`;
    let located;
    try {
      located = await this.catalog.locate(path, access, []);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      layers.push({ layer: 'lookup', outcome: 'refused', detail: notFound });
      return done(false, 'lookup', notFound);
    }
    if (!access) {
      const detail = 'no access policy restricts nodes (allow-all)';
      layers.push({ layer: 'policy', outcome: 'allowed', detail });
      return done(true, 'policy', detail);
    }
    const allowed = await this.catalog.access.allowedOn(access, located.node, located.path, located.blob);
    if (!allowed.has(scope) && !allowed.has('read:metadata')) {
      layers.push({ layer: 'lookup', outcome: 'refused', detail: notFound });
      return done(false, 'lookup', notFound);
    }
    layers.push({ layer: 'lookup', outcome: 'allowed', detail: `${shown} exists and is visible` });
    const policy = this.catalog.access.policy;
    const reasons = policy.explain ? await policy.explain(accessNode(located.node, located.path, located.blob), access.caller) : [];
    for (const reason of reasons) {
      layers.push({ layer: asLayer(reason.layer), outcome: reason.granted.includes(scope) ? 'allowed' : 'refused', detail: reason.detail });
    }
    if (allowed.has(scope)) {
      const granting = layers.find((layer, i) => i >= layers.length - reasons.length && layer.outcome === 'allowed');
      return done(true, granting?.layer ?? 'policy', granting?.detail ?? `the access policy grants ${scope} on ${shown}`);
    }
    const policyLayers = layers.slice(layers.length - reasons.length);
    const refusing = policyLayers.find((layer) => layer.layer === 'key tags') ?? policyLayers[0];
    const reason = `the access policy grants ${[...allowed].sort().join(' ') || 'nothing'} on ${shown}, not ${scope}${refusing ? `: ${refusing.detail}` : ''}`;
    return done(false, refusing?.layer ?? 'policy', reason);
  }
}

function asLayer(name: string): ExplainLayer['layer'] {
  return name === 'key tags' || name === 'node tags' || name === 'owner' || name === 'admin' ? name : 'policy';
}
