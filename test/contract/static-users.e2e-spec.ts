import { join } from 'node:path';
import { runAuthenticatorContract } from './authenticator.contract';

// The plugin's file; the server loads it by this absolute path.
const PLUGIN = join(__dirname, '..', 'fixtures', 'plugins', 'static-users', 'index.js');

runAuthenticatorContract({
  name: 'static-users',
  authenticator: `${PLUGIN}:StaticUsersAuthenticator`,
  module: PLUGIN,
  exportName: 'StaticUsersAuthenticator',
  args: { users: { dana: 'pw-dana' } },
  valid: { username: 'dana', password: 'pw-dana' },
  wrongPassword: { username: 'dana', password: 'pw-nope' },
  unknownUser: { username: 'erin', password: 'pw-dana' },
  invalidArgs: [
    { args: { users: { dana: 5 }, extra: 1 }, error: /authentication\.providers\[0\]\.args: unknown key "extra"/ },
    { args: {}, error: /authentication\.providers\[0\]\.args: missing required key "users"/ },
  ],
});
