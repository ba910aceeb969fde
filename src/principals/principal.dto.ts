import type { ApiKeyResponseDto } from '../apikeys/dto/api-key-response.dto';

/** Tiled's `Principal` (captured in 08-admin-principals.txt); dates are rendered by `sendDocument` (ISO in JSON, timestamps in msgpack). */
export interface PrincipalJson {
  /** Hyphenated UUID. */
  uuid: string;
  type: 'user' | 'service';
  identities: { id: string; provider: string; latest_login: Date | null }[];
  roles: { name: string; scopes: string[] }[];
  api_keys: ApiKeyResponseDto[];
  sessions: { uuid: string; expiration_time: Date; revoked: boolean; state: Record<string, unknown> }[];
  latest_activity: Date | null;
}
