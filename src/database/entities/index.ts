import { ApiKeyEntity } from './api-key.entity';
import { IdentityEntity } from './identity.entity';
import { LoginFailureEntity } from './login-failure.entity';
import { PrincipalEntity } from './principal.entity';
import { RoleEntity } from './role.entity';
import { SessionEntity } from './session.entity';
import { EXTERNAL_LOGIN_ENTITIES } from './external-login.entities';

export { ApiKeyEntity, IdentityEntity, LoginFailureEntity, PrincipalEntity, RoleEntity, SessionEntity };
export type { PrincipalType } from './principal.entity';

export const AUTH_ENTITIES = [PrincipalEntity, RoleEntity, IdentityEntity, ApiKeyEntity, SessionEntity, LoginFailureEntity, ...EXTERNAL_LOGIN_ENTITIES];
