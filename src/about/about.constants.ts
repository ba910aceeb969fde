import { aboutAliases, aboutFormats } from '../catalog/encoders/registry';

/** The Tiled API generation we speak; the Python client checks it is PEP 440 and ≥ 0.2.4. */
export const TILED_COMPAT_VERSION = '0.2.16';
export const TILED_API_VERSION = 0;

// In a module of its own, so code below the encoders (data ETags) can name the version without an import cycle.
export { TILED_TS_VERSION } from './version';

/** Query names in Tiled's registration order (as test/compat/fixtures/tiled-0.2.16/01-about.txt lists them). */
export const QUERY_NAMES = [
  'fulltext', 'lookup', 'keys_filter', 'regex', 'eq', 'noteq', 'comparison', 'contains', 'in', 'notin',
  'keypresent', 'like', 'specs', 'access_blob_filter', 'structure_family',
];

/** Media types per structure family that this server produces, and their extensions: read from the encoders' one table. */
export const FORMATS = aboutFormats();
export const FORMAT_ALIASES = aboutAliases();
