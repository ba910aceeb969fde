import { definePlugin, outcome, PLUGIN_API_VERSION } from 'tiled-ts/plugins-api';

export interface DummyArgs {
  confirmation_message?: string;
}

/** Tiled's DummyAuthenticator: every username logs in with any password. Never use it on a shared server. */
export default definePlugin<DummyArgs>({
  meta: { name: 'dummy', version: '1.0.0', apiVersion: PLUGIN_API_VERSION },
  argsSchema: {
    type: 'object',
    properties: { confirmation_message: { type: 'string' } },
    additionalProperties: false,
  },
  create(args, context) {
    context.logger.warn(
      `Provider "${context.provider}" uses the DUMMY authenticator: ANY username with ANY password logs in. Use it only for demos and tests.`,
    );
    return {
      mode: 'internal',
      confirmationMessage: args.confirmation_message ?? '',
      async authenticate({ username }) {
        return username === '' ? outcome.rejected('empty username') : outcome.authenticated(username);
      },
    };
  },
});
