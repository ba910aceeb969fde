import { DynamicModule, Logger, Module } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { ConfigError } from '../config/config-loader';
import { DatabaseModule, openConfiguredDatabase } from '../database/database.module';
import { DatabaseOpenError } from '../database/data-source';
import { DatabaseUriError } from '../database/database-uri';
import type { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';
import { AuthnModule } from '../authn/authn.module';
import { SessionsService } from '../authn/sessions.service';
import { TokenService } from '../authn/token.service';
import { PrincipalsService } from '../principals/principals.service';
import { ExternalLoginModule } from '../external-login/external-login.module';

@Module({})
class MultiUserAuthModule {}

/**
 * Build the multi-user authentication module from the config and its started authenticators
 * (validateDeployment loads them): open (and check) the database before Nest starts, so each problem is
 * one clear startup error (exit 2).
 */
export async function buildMultiUserAuthModule(config: AppConfig, registry: AuthenticatorRegistry): Promise<DynamicModule> {
  const logger = new Logger('Authentication');
  const secrets = config.authentication.secret_keys?.filter((key) => key !== '') ?? [];
  if (secrets.length === 0) {
    logger.warn(
      'No authentication.secret_keys (or TILED_SECRET_KEYS) configured: using a random key for this process. Everyone is logged out when the server restarts, and replicas cannot verify each other\'s tokens.',
    );
    secrets.push(TokenService.randomSecret());
  }
  const dataSource = await asConfigError(() => openConfiguredDatabase(config.database));
  await grantAdmins(dataSource, config);
  return {
    module: MultiUserAuthModule,
    global: true,
    imports: [
      DatabaseModule.forDataSource(dataSource),
      AuthnModule.forRoot(registry, new TokenService(secrets)),
      ExternalLoginModule.forRoot({
        authenticators: registry,
        // AuthnModule is global, so SessionsService is visible without importing it again.
        imports: [],
        identityLogin: SessionsService,
        publicBaseUrl: config.authentication.public_base_url,
        pendingLoginCaps: {
          perAddress: config.authentication.pending_logins_per_address,
          perProvider: config.authentication.pending_logins_per_provider,
        },
      }),
    ],
    exports: [AuthnModule],
  };
}

/** `tiled_admins`: at every startup, as Tiled. Removing a name from the list does not take the role away. */
async function grantAdmins(dataSource: DataSource, config: AppConfig): Promise<void> {
  const principals = new PrincipalsService(dataSource);
  for (const admin of config.authentication.tiled_admins) await principals.makeAdmin(admin.provider, admin.id);
}

async function asConfigError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DatabaseOpenError || error instanceof DatabaseUriError) {
      throw new ConfigError(error.message);
    }
    throw error;
  }
}
