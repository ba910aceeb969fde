import type { AuthContext } from '../auth/auth-context';
import { INHERIT, isScope } from '../auth/scopes';
import { UnprocessableError } from '../common/errors/tiled-http.error';
import { ApiKeyError, ApiKeyErrorCode } from './api-key.errors';
import { pyList } from '../common/errors/tiled-http.error';
import type { AppConfig } from '../config/app-config';
import type { CreateApiKeyDto } from './dto/create-api-key.dto';
import { ApiKeyResponseDto, ApiKeyWithSecretResponseDto, toApiKeyResponse } from '../principals/api-key-response.dto';
import { resolveRequestedScopes } from './api-key-scopes';
import { generateSecret, hashPresentedSecret } from './api-key-secret';
import type { PlainLogger } from '../common/logging/plain-logger';
import { ApiKeyVerifierService } from './api-key-verifier';
import { ApiKeyStore, KeyOwner } from './api-key.store';
import type { AccessPolicy } from '../plugins-api';
import { splitKeyPath } from './dto/create-api-key.dto';

/** Tiled's limit per principal; counts keys that still work (revoked and expired rows are audit history). */
export const MAX_KEYS_PER_PRINCIPAL = 100;
/** The last second a key may expire at: Python's datetime (Tiled's client) ends with the year 9999. */
const LATEST_EXPIRATION_MS = Date.UTC(9999, 11, 31, 23, 59, 59);
/** Redraws of the secret when its first eight characters are already taken (1 in 4 billion per key). */
const MAX_DRAWS = 5;

/** Who asks for a key, and whose key it becomes. */
interface CreateRequest {
  owner: KeyOwner;
  /** Set when the caller authenticated with an API key minting for itself: the new key may not exceed it. */
  callingKeyScopes?: ReadonlySet<string>;
  /** What `callingKeyScopes` came from, for the refusal. */
  callingCredential?: 'API key' | 'access token';
  /** …nor reach tags or nodes the calling key cannot. */
  callingKeyTags?: ReadonlySet<string> | null;
  callingKeyPath?: readonly string[];
}

/** The key rules (docs/api-keys-server.md): who may mint what, for how long, and revocation. */
export class ApiKeysService {
  constructor(
    private readonly store: ApiKeyStore,
    private readonly verifier: ApiKeyVerifierService,
    private readonly config: AppConfig,
    private readonly logger: PlainLogger,
    /** Checks that a key's access tags are ones its owner may have; absent: any tag. */
    private readonly policy?: AccessPolicy,
  ) {}

  /** `POST /auth/apikey`: a key for the caller. */
  async createForCaller(auth: AuthContext, dto: CreateApiKeyDto): Promise<ApiKeyWithSecretResponseDto> {
    const owner = await this.callerOf(auth);
    const viaKey = auth.via === 'apikey';
    return this.create(
      { owner, callingKeyScopes: viaKey || auth.providerToken ? auth.scopes : undefined, callingCredential: viaKey ? 'API key' : 'access token', callingKeyTags: viaKey ? (auth.accessTags ?? null) : undefined, callingKeyPath: auth.keyPath },
      dto,
    );
  }

  /** `POST /auth/principal/{uuid}/apikey`: an administrator mints a key on someone's behalf (checked against that principal). */
  async createForPrincipal(auth: AuthContext, uuid: string, dto: CreateApiKeyDto): Promise<ApiKeyWithSecretResponseDto> {
    const owner = await this.store.findOwnerByUuid(uuid);
    if (!owner) throw new ApiKeyError(ApiKeyErrorCode.principal_not_found, `Principal ${uuid} does not exist or insufficient permissions.`);
    const created = await this.create({ owner }, dto);
    this.logger.log(`${describe(auth)} created API key ${created.first_eight} for principal ${uuid}`);
    return created;
  }

  /** `GET /auth/apikey`: the key presented with this request. */
  async inspect(presented: string | undefined): Promise<ApiKeyResponseDto> {
    if (presented === undefined) throw new ApiKeyError(ApiKeyErrorCode.no_key_presented, 'No API key was provided with this request.');
    const entry = await this.verifier.lookup(presented);
    const hashed = hashPresentedSecret(presented);
    const row = entry && hashed ? await this.store.findByHash(hashed) : null;
    // Re-checked on the fresh row: a revoke may have landed between the lookup and this read.
    if (!row || row.revokedAt !== null) throw new ApiKeyError(ApiKeyErrorCode.invalid_key, 'Invalid API key');
    return toApiKeyResponse({ ...row, latestActivity: this.verifier.latestActivity(row.id, row.latestActivity) });
  }

  /** `DELETE /auth/apikey?first_eight=`: revoke one of the caller's own keys. */
  async revokeForCaller(auth: AuthContext, firstEight: string | undefined): Promise<void> {
    const prefix = requireFirstEight(firstEight);
    const owner = await this.callerOf(auth);
    // Another principal's key gets the same answer as no key at all: revocation must not reveal who owns what.
    const notFound = `The currently-authenticated PrincipalType.${owner.type} has no such API key.`;
    await this.revoke(owner, firstEight!, prefix, notFound);
    this.logger.warn(`${describe(auth)} revoked own API key ${prefix}`);
  }

  /** `DELETE /auth/principal/{uuid}/apikey?first_eight=`. */
  async revokeForPrincipal(auth: AuthContext, uuid: string, firstEight: string | undefined): Promise<void> {
    const prefix = requireFirstEight(firstEight);
    const notFound = `The principal ${uuid} has no such API key.`;
    const owner = await this.store.findOwnerByUuid(uuid);
    if (!owner) throw new ApiKeyError(ApiKeyErrorCode.key_not_found, notFound);
    await this.revoke(owner, firstEight!, prefix, notFound);
    this.logger.warn(`${describe(auth)} revoked API key ${prefix} of principal ${uuid}`);
  }

  private async create(request: CreateRequest, dto: CreateApiKeyDto): Promise<ApiKeyWithSecretResponseDto> {
    const { owner } = request;
    const scopes = dto.scopes ?? [INHERIT];
    this.checkSubsetOfOwner(dto.scopes, scopes, owner);
    if (request.callingKeyScopes) this.checkWithinCallingKey(scopes, owner, request.callingKeyScopes, request.callingCredential ?? 'API key');
    if (dto.access_tags !== null) {
      const offending = scopes.filter((scope) => scope === INHERIT || scope === 'admin:apikeys');
      if (offending.length > 0) {
        throw new ApiKeyError(
          ApiKeyErrorCode.access_tags_with_broad_scopes,
          `Requested scopes ${pyList(scopes)} contain scopes ${pySet(offending)}, which cannot be combined with access tag restrictions.`,
        );
      }
    }
    await this.checkTags(request, dto.access_tags);
    const path = this.pathWithin(request, dto.path);
    const now = new Date();
    const expirationTime = this.expirationFor(dto.expires_in, now);
    const result = await this.store.insertUnderCap(owner.id, MAX_KEYS_PER_PRINCIPAL, MAX_DRAWS, () => ({
      ...generateSecret(),
      expirationTime,
      note: dto.note,
      scopes: [...scopes],
      accessTags: dto.access_tags,
      path,
      principalId: owner.id,
      timeCreated: now,
    }));
    if (result.kind === 'full') {
      throw new ApiKeyError(
        ApiKeyErrorCode.limit_reached,
        `This Principal already has ${result.active} API keys which is greater than or equal to the maximum number allowed, ${MAX_KEYS_PER_PRINCIPAL}. Some API keys must be deleted before creating new ones.`,
      );
    }
    if (result.kind === 'collisions') throw new ApiKeyError(ApiKeyErrorCode.allocation_failed, 'Could not allocate a unique API key; try again');
    return { ...toApiKeyResponse(result.row), secret: result.drawn.secret };
  }

  /** A key's tags must be tags its owner may have (per the access policy), and within the calling key's tags. */
  private async checkTags(request: CreateRequest, tags: string[] | null): Promise<void> {
    const calling = request.callingKeyTags;
    if (calling) {
      const beyond = tags === null ? null : tags.filter((tag) => !calling.has(tag));
      if (beyond === null || beyond.length > 0) {
        throw new ApiKeyError(
          ApiKeyErrorCode.tags_beyond_calling_key,
          `The API key making this request is restricted to access tags ${pyList([...calling])}; a key it creates must be restricted to a subset of them${beyond?.length ? `. Not held: ${pyList(beyond)}` : ''}.`,
        );
      }
    }
    if (tags === null || !this.policy?.tagRefusal) return;
    const { owner } = request;
    const caller = { principal: { uuid: owner.uuid, type: owner.type, identities: owner.identities }, accessTags: null, scopes: owner.roleScopes };
    for (const tag of tags) {
      const refusal = await this.policy.tagRefusal(tag, caller);
      if (refusal) throw new ApiKeyError(ApiKeyErrorCode.tag_refused, `Cannot restrict an API key to access tag '${tag}': ${refusal}.`);
    }
  }

  /** The new key's subtree: as asked, inside the calling key's subtree; a key bound to a subtree passes it on by default. */
  private pathWithin(request: CreateRequest, path: string | null): string | null {
    const calling = request.callingKeyPath;
    if (!calling || calling.length === 0) return path;
    if (path === null) return `/${calling.join('/')}`;
    const wanted = splitKeyPath(path);
    if (wanted.length < calling.length || calling.some((segment, i) => wanted[i] !== segment)) {
      throw new ApiKeyError(ApiKeyErrorCode.path_beyond_calling_key, `The API key making this request is bound to /${calling.join('/')}; a key it creates must be bound inside it, not to ${path}.`);
    }
    return path;
  }

  /** Tiled's rule (403, same text): every requested scope must be one the owner holds, or `inherit`. */
  private checkSubsetOfOwner(raw: string[] | null, scopes: string[], owner: KeyOwner): void {
    const notHeld = scopes.filter((scope) => scope !== INHERIT && !owner.roleScopes.has(scope));
    if (notHeld.length === 0) return;
    const unknown = notHeld.filter((scope) => !isScope(scope));
    const why = unknown.length > 0 ? ` Unknown scopes: ${pyList(unknown)}.` : ` Not held: ${pyList(notHeld)}.`;
    throw new ApiKeyError(
      ApiKeyErrorCode.scopes_not_held,
      `Requested scopes ${raw === null ? 'None' : pyList(raw)} must be a subset of the principal's scopes ${pyList(owner.roleScopes)}.${why}`,
    );
  }

  /** A key can never mint a key that could do more than itself (`inherit` counts as everything the owner holds). */
  private checkWithinCallingKey(scopes: string[], owner: KeyOwner, calling: ReadonlySet<string>, credential: 'API key' | 'access token'): void {
    const wanted = resolveRequestedScopes(scopes, owner.roleScopes);
    const beyond = [...wanted].filter((scope) => !calling.has(scope));
    if (beyond.length === 0) return;
    throw new ApiKeyError(
      ApiKeyErrorCode.beyond_calling_key,
      `Requested scopes ${pyList(scopes)} must be a subset of the scopes of the ${credential} making this request ${pyList(
        [...calling].filter((scope) => scope !== INHERIT),
      )}. Not held: ${pyList(beyond)}.`,
    );
  }

  private expirationFor(expiresIn: number | null, now: Date): Date | null {
    const cap = this.config.authentication.api_key_max_lifetime;
    if (cap !== null && cap !== undefined && expiresIn !== null && expiresIn > cap) {
      throw new UnprocessableError([
        {
          type: 'less_than_equal',
          loc: ['body', 'expires_in'],
          msg: `Input should be less than or equal to ${cap}: this server's authentication.api_key_max_lifetime caps API keys at ${cap} seconds`,
          input: expiresIn,
        },
      ]);
    }
    // With a cap, "never expires" means "lives as long as allowed"; the response shows the resulting time.
    const seconds = expiresIn ?? cap ?? null;
    if (seconds === null) return null;
    const longest = Math.floor((LATEST_EXPIRATION_MS - now.getTime()) / 1000);
    if (seconds > longest) {
      // Beyond it the time is not a date here, nor in the Python client, which reads it as a datetime.
      throw new UnprocessableError([
        { type: 'less_than_equal', loc: ['body', 'expires_in'], msg: `Input should be less than or equal to ${longest}: an API key must expire before the year 10000`, input: seconds },
      ]);
    }
    // Tiled stores times with second resolution. Rounding up keeps every key alive for at least the
    // seconds asked for: rounding `now` down made an `expires_in: 1` key expire at the next second
    // boundary, sometimes before its first use.
    const roundedUp = Math.ceil((now.getTime() + seconds * 1000) / 1000) * 1000;
    const latestAllowed = cap === null || cap === undefined ? Infinity : Math.floor((now.getTime() + cap * 1000) / 1000) * 1000;
    return new Date(Math.min(roundedUp, latestAllowed));
  }

  private async revoke(owner: KeyOwner, presented: string, prefix: string, notFound: string): Promise<void> {
    const row = await this.store.findActiveByFirstEight(owner.id, prefix, new Date());
    if (!row) throw new ApiKeyError(ApiKeyErrorCode.key_not_found, notFound);
    // A full key must be the key, not merely share its first eight characters.
    if (presented.length > 8 && hashPresentedSecret(presented) !== row.hashedSecret && /^[0-9a-fA-F]{72}$/.test(presented)) {
      throw new ApiKeyError(ApiKeyErrorCode.key_not_found, notFound);
    }
    await this.store.revoke(row.id, new Date());
    await this.verifier.announceRevocation(row.hashedSecret);
  }

  private async callerOf(auth: AuthContext): Promise<KeyOwner> {
    if (!auth.principal) throw new ApiKeyError(ApiKeyErrorCode.not_authenticated, 'Not authenticated', { 'www-authenticate': 'Bearer' });
    const owner = await this.store.findOwnerByUuid(auth.principal.uuid);
    if (!owner) throw new ApiKeyError(ApiKeyErrorCode.principal_gone, 'Principal no longer exists.');
    return owner;
  }
}

/** `first_eight` is required; longer input (a whole key) is cut to its first eight characters, as Tiled does. */
function requireFirstEight(value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new UnprocessableError([{ type: 'missing', loc: ['query', 'first_eight'], msg: 'Field required', input: null }]);
  }
  return value.slice(0, 8).toLowerCase();
}

function pySet(items: string[]): string {
  return `{${items.map((s) => `'${s}'`).join(', ')}}`;
}

function describe(auth: AuthContext): string {
  const principal = auth.principal;
  if (!principal) return 'anonymous';
  const identity = principal.identities[0];
  return identity ? `${identity.provider}:${identity.id}` : `service:${principal.uuid}`;
}
