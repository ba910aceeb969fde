import { join } from 'node:path';
import { runAuthenticatorContract } from './authenticator.contract';

/** The authenticator contract against every built-in internal authenticator (the documented example: static-users.e2e-spec.ts). */
const DIST_PLUGINS = join(__dirname, '..', '..', 'dist', 'plugins');

runAuthenticatorContract({
  name: 'dictionary (built-in)',
  authenticator: 'dictionary',
  module: join(DIST_PLUGINS, 'dictionary', 'src', 'index.js'),
  args: { users_to_passwords: { alice: 'alice-pw', bob: 'bob-pw' } },
  valid: { username: 'alice', password: 'alice-pw' },
  wrongPassword: { username: 'alice', password: 'not-alice-pw' },
  unknownUser: { username: 'mallory', password: 'alice-pw' },
  alsoRejected: [{ username: 'bob', password: '' }],
  invalidArgs: [
    { args: {}, error: /authentication\.providers\[0\]\.args: missing required key "users_to_passwords"/ },
    { args: { users_to_passwords: { alice: 5 } }, error: /authentication\.providers\[0\]\.args\.users_to_passwords\.alice: must be string/ },
  ],
});

runAuthenticatorContract({
  name: 'dummy (built-in)',
  authenticator: 'dummy',
  module: join(DIST_PLUGINS, 'dummy', 'src', 'index.js'),
  args: {},
  valid: { username: 'anyone', password: 'anything' },
  // Dummy lets every non-empty username in with any password; an empty one is its only rejection.
  alsoRejected: [{ username: '', password: 'x' }],
  invalidArgs: [{ args: { confirmation_message: 5 }, error: /authentication\.providers\[0\]\.args\.confirmation_message: must be string/ }],
});
