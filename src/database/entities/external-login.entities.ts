import { DeviceLoginRequestEntity } from './device-login-request.entity';
import { ExternalLoginRequestEntity } from './external-login-request.entity';
import { UserCodeFailureEntity } from './user-code-failure.entity';

export { DeviceLoginRequestEntity, ExternalLoginRequestEntity, UserCodeFailureEntity };
export type { CompletedDeviceIdentity } from './device-login-request.entity';

/** The short-lived state of external logins, shared by every replica through the authentication database. */
export const EXTERNAL_LOGIN_ENTITIES = [ExternalLoginRequestEntity, DeviceLoginRequestEntity, UserCodeFailureEntity];
