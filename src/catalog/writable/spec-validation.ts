import { TiledHttpError } from '../../common/errors/tiled-http.error';
import type { Spec } from '../tree/tree.types';

/** What the composite rule needs to know of each child of a node. */
export interface ChildSummary {
  key: string;
  family: string;
  /** A table's column names (from its structure); empty for other families. */
  columns: readonly string[];
}

function failed(spec: string, reason: string): TiledHttpError {
  return new TiledHttpError(400, `failed validation for the ${spec} spec:\n${reason}`);
}

function pyStr(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Tiled 0.2.16's `composite` spec (tiled/validation_registration.py `validate_composite`): a composite node
 * is a container carrying that spec, whose arrays and table columns a client shows as one flat namespace.
 * On creation the spec may only go on a container; on a metadata update the container's children must
 * also be free of nested containers, and their keys and table column names must not collide.
 */
function validateComposite(family: string, children: readonly ChildSummary[] | null): void {
  if (family !== 'container') throw failed('composite', `Composite spec can be assigned only to containers, not to StructureFamily.${family}.`);
  if (children === null) return;
  const names: string[] = [];
  for (const child of children) {
    names.push(child.key);
    if (child.family === 'table') names.push(...child.columns);
    else if (child.family === 'container') throw failed('composite', 'Nested containers are not allowed in a composite container.');
  }
  const seen = new Set<string>();
  const repeats: string[] = [];
  for (const name of names) {
    if (seen.has(name) && !repeats.includes(name)) repeats.push(name);
    seen.add(name);
  }
  if (repeats.length) {
    throw failed(
      'composite',
      `Names of table columns and other items in a composite container must be unique and not conflict with each other. Found conflicting names: [${repeats.map(pyStr).join(', ')}].`,
    );
  }
}

/** Specs Tiled validates out of the box (its default validation registry), by name and version. */
const VALIDATORS: ReadonlyMap<string, (family: string, children: readonly ChildSummary[] | null) => void> = new Map([['composite', validateComposite]]);

/** True when any spec has a validator that needs the node's children (loaded only then). */
export function needsChildren(specs: readonly Spec[]): boolean {
  return specs.some((s) => s.version === null && VALIDATORS.has(s.name));
}

/**
 * Runs the validators of `specs`, least specific (last) first as Tiled does. `children` is null when the
 * node is being created (Tiled passes no entry then).
 */
export function validateSpecs(specs: readonly Spec[], family: string, children: readonly ChildSummary[] | null): void {
  for (const spec of [...specs].reverse()) {
    if (spec.version !== null) continue;
    VALIDATORS.get(spec.name)?.(family, children);
  }
}
