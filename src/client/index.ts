import { Context, ContextOptions, parseTiledUri } from './context';
import { NotAuthenticatedError, TiledClientError } from './errors';
import { fetchNode, Node } from './nodes';
import { resolveProfile } from './profiles';

export { Context, parseTiledUri } from './context';
export type {
  AboutDocument,
  ApiKeyInfo,
  ApiKeyWithSecret,
  AuthProvider,
  ContextOptions,
  CreateApiKeyOptions,
  Principal,
  TokenResponse,
} from './context';
export { NotAuthenticatedError, TiledClientError } from './errors';
export { ArrayNode, BaseNode, Container, SparseNode, TableNode, slicedShape } from './nodes';
export type { ArrayData, ArrayStructure, DeleteOptions, Node, NodeOptions, Resource, SparseData, SparseValues, TableStructure, TypedArray, WriteArrayOptions, WriteSparseOptions } from './nodes';
export type { WritableArray } from './write';
export { queries } from './queries';
export type { Query } from './queries';
export { createProfile, deleteProfile, loadProfiles, resolveProfile } from './profiles';
export type { Profile, ProfileEntry } from './profiles';
export { parseTimeString } from './time';

/**
 * Connect to a Tiled server and return the node the URI points at (the root for a bare server URL).
 * Credentials: `options.apiKey`, else `?api_key=` in the URI, else `TILED_API_KEY`, else tokens
 * cached by `tiled login`. A server that requires authentication and gets none answers 401, which
 * surfaces as a {@link NotAuthenticatedError}.
 */
export async function fromUri(uri: string, options: ContextOptions = {}): Promise<Node> {
  const context = await Context.connect(uri, options);
  context.useCachedTokens();
  const { path } = parseTiledUri(uri);
  try {
    return await fetchNode(context, path);
  } catch (error) {
    const about = await context.about();
    if (error instanceof TiledClientError && error.status === 401 && !context.usingApiKey && !context.hasTokens && about.authentication.required) {
      throw new NotAuthenticatedError();
    }
    throw error;
  }
}

/** Connect using a named profile (default: the default profile, or the only one). */
export async function fromProfile(name?: string, options: ContextOptions = {}): Promise<Node> {
  const entry = resolveProfile(name);
  if (!entry.profile.uri) throw new TiledClientError(0, `Profile '${entry.name}' has no 'uri'; 'direct' profiles are not supported`);
  return fromUri(entry.profile.uri, { headers: entry.profile.headers, ...options });
}
