import type { DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';

/**
 * Build the multi-user authentication module (database, plugins, tokens, API keys) from the config.
 * Placeholder until the multi-user issue lands.
 */
export async function buildMultiUserAuthModule(_config: AppConfig): Promise<DynamicModule> {
  throw new Error('Multi-user authentication (authentication.providers) is not available yet');
}
