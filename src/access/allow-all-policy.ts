import { ALL_SCOPES } from '../auth/scopes';
import { ALL_ACCESS, AccessPolicy, AccessPolicyPlugin, PLUGIN_API_VERSION, defineAccessPolicy } from '../plugins-api';

/** Tiled's DummyAccessPolicy: every node grants every scope, nothing is filtered. The default. */
export class AllowAllPolicy implements AccessPolicy {
  private readonly all: ReadonlySet<string> = new Set(ALL_SCOPES);

  async allowedScopes(): Promise<ReadonlySet<string>> {
    return this.all;
  }

  async filters(): Promise<typeof ALL_ACCESS> {
    return ALL_ACCESS;
  }

  async initNode(_caller: unknown, accessBlob: Readonly<Record<string, unknown>> | undefined): Promise<{ modified: boolean; accessBlob: Readonly<Record<string, unknown>> | undefined }> {
    return { modified: false, accessBlob };
  }
}

export const allowAllPolicyPlugin: AccessPolicyPlugin = defineAccessPolicy({
  meta: { name: 'allow-all', version: '1.0.0', apiVersion: PLUGIN_API_VERSION },
  argsSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => new AllowAllPolicy(),
});
