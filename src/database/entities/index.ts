import { ApiKeyEntity } from './api-key.entity';
import { IdentityEntity } from './identity.entity';
import { PendingSessionEntity } from './pending-session.entity';
import { PrincipalEntity } from './principal.entity';
import { RoleEntity } from './role.entity';
import { SessionEntity } from './session.entity';
import { EXTERNAL_LOGIN_ENTITIES } from './external-login.entities';

export { ApiKeyEntity, IdentityEntity, PendingSessionEntity, PrincipalEntity, RoleEntity, SessionEntity };
export type { PrincipalType } from './principal.entity';

export const AUTH_ENTITIES = [PrincipalEntity, RoleEntity, IdentityEntity, ApiKeyEntity, SessionEntity, PendingSessionEntity, ...EXTERNAL_LOGIN_ENTITIES];
