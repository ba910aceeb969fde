import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { definePlugin, outcome, PLUGIN_API_VERSION } from 'tiled-ts/plugins-api';

export interface DictionaryArgs {
  users_to_passwords: Record<string, string>;
  confirmation_message?: string;
}

/**
 * Tiled's DictionaryAuthenticator. Passwords are compared as HMACs under a per-process key with
 * timingSafeEqual: equal-length digests make the comparison constant-time whatever the password length,
 * and an unknown user is compared against a random digest so it costs the same and answers the same.
 */
export default definePlugin<DictionaryArgs>({
  meta: { name: 'dictionary', version: '1.0.0', apiVersion: PLUGIN_API_VERSION },
  argsSchema: {
    type: 'object',
    properties: {
      users_to_passwords: { type: 'object', additionalProperties: { type: 'string' } },
      confirmation_message: { type: 'string' },
    },
    required: ['users_to_passwords'],
    additionalProperties: false,
  },
  create(args, context) {
    const key = randomBytes(32);
    const digest = (value: string): Buffer => createHmac('sha256', key).update(value, 'utf8').digest();
    const stored = new Map<string, Buffer>();
    for (const [user, password] of Object.entries(args.users_to_passwords)) {
      // An empty password (e.g. an unset ${VAR:-}) disables that user instead of letting anyone in.
      if (password !== '') stored.set(user, digest(password));
    }
    const disabled = Object.keys(args.users_to_passwords).filter((user) => !stored.has(user));
    if (disabled.length) context.logger.info(`Users without a password cannot log in: ${disabled.join(', ')}`);
    const decoy = digest(randomBytes(32).toString('hex'));
    return {
      mode: 'internal',
      confirmationMessage: args.confirmation_message ?? '',
      async authenticate({ username, password }) {
        const expected = stored.get(username);
        const matches = timingSafeEqual(digest(password), expected ?? decoy);
        return expected && matches ? outcome.authenticated(username) : outcome.rejected(expected ? 'wrong password' : 'unknown user');
      },
    };
  },
});
