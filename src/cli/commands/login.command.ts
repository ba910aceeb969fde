import { Command, Option } from 'commander';
import read from 'read';
import { Context, NotAuthenticatedError, TiledClientError } from '../../client';
import { AuthProvider, Explanation, TokenResponse } from '../../client/context';
import { ProfileError, resolveProfile } from '../../client/profiles';
import { CliError } from '../cli-error';
import { DeviceFlowError, loginWithDeviceFlow } from '../../external-login/device-flow.client';

export interface ProfileFlags {
  profile?: string;
}

const CANNOT_PROMPT =
  'Cannot prompt for credentials: stdin is not a terminal. Set TILED_API_KEY, run `tiled login` in a terminal, or set TILED_FORCE_PROMPT=1.';

export const profileOption = (): Option => new Option('--profile <name>', 'Profile to use (default: TILED_PROFILE, else the default profile)');

function interactive(): boolean {
  return Boolean(process.stdin.isTTY) || ['1', 'true', 'yes'].includes((process.env.TILED_FORCE_PROMPT ?? '').toLowerCase());
}

/** The server URI (possibly with a node path) and extra headers of the profile the flags select. */
export function profileTarget(flags: ProfileFlags): { uri: string; headers?: Record<string, string> } {
  try {
    const entry = resolveProfile(flags.profile);
    const uri = entry.profile.uri;
    if (!uri) throw new CliError(`Profile '${entry.name}' uses 'direct', which the tiled CLI does not support; give it a 'uri'.`);
    return { uri, headers: entry.profile.headers };
  } catch (error) {
    if (error instanceof ProfileError) throw new CliError(error.message);
    throw error;
  }
}

/** A context for the profile's server, without credentials beyond what the environment gives. */
export async function contextForProfile(flags: ProfileFlags): Promise<Context> {
  const { uri, headers } = profileTarget(flags);
  return Context.connect(uri, { headers });
}

/**
 * A context that can act as the user: an API key from the environment or URI, else cached tokens
 * (refreshed as needed), else a login prompt when there is a terminal to prompt on.
 */
export async function authenticatedContext(flags: ProfileFlags): Promise<Context> {
  const context = await contextForProfile(flags);
  if (context.usingApiKey) return context;
  const about = await context.about();
  if (!about.authentication.links) return context;
  if (context.useCachedTokens()) {
    try {
      if (await context.whoami()) return context;
    } catch (error) {
      if (!(error instanceof NotAuthenticatedError) && !(error instanceof TiledClientError && error.status === 401)) throw error;
    }
  }
  if (!interactive()) throw new CliError(`Not authenticated. ${CANNOT_PROMPT}`);
  await promptLogin(context, {});
  return context;
}

/** Reads answers from a terminal (hidden for passwords) or, without one, line by line from stdin. */
class Answers {
  private lines?: string[];

  async ask(prompt: string, hidden = false): Promise<string> {
    if (process.stdin.isTTY) {
      const answer = await read({ prompt, silent: hidden, output: process.stderr });
      // The Enter of a hidden answer is not echoed; end the prompt line as getpass does.
      if (hidden) process.stderr.write('\n');
      return answer;
    }
    if (!this.lines) {
      let text = '';
      for await (const chunk of process.stdin) text += String(chunk);
      this.lines = text.split(/\r?\n/);
    }
    const answer = this.lines.shift();
    if (answer === undefined) throw new CliError(`No answer to "${prompt.trim()}" on stdin`);
    return answer;
  }
}

async function chooseProvider(providers: AuthProvider[], wanted: string | undefined, answers: Answers): Promise<AuthProvider> {
  if (!providers.length) {
    throw new CliError('This server has no login: it is a single-user server. Use its API key (for example via TILED_API_KEY).');
  }
  if (wanted) {
    const found = providers.find((p) => p.provider === wanted);
    if (!found) throw new CliError(`No authentication provider named '${wanted}'. Choose one of: ${providers.map((p) => p.provider).join(', ')}`);
    return found;
  }
  if (providers.length === 1) return providers[0];
  process.stderr.write('Authentication providers:\n');
  providers.forEach((p, i) => process.stderr.write(`${i + 1} - ${p.provider}\n`));
  const choice = (await answers.ask('Choose an authentication provider (or press Enter to cancel): ')).trim();
  if (!choice) throw new CliError('Aborted!');
  const index = Number(choice);
  const chosen = Number.isInteger(index) ? providers[index - 1] : providers.find((p) => p.provider === choice);
  if (!chosen) throw new CliError(`'${choice}' is not one of the listed providers`);
  return chosen;
}

/** Tiled's internal-mode login: up to three attempts on a terminal, one without. */
export async function promptLogin(context: Context, options: { provider?: string }): Promise<TokenResponse> {
  if (context.usingApiKey) throw new CliError('An API key is set (TILED_API_KEY or ?api_key= in the profile URI); unset it to log in.');
  const answers = new Answers();
  const provider = await chooseProvider(await context.providers(), options.provider, answers);
  if (provider.mode === 'external') {
    const print = (text: string): boolean => process.stdout.write(text);
    const tokens = await loginWithDeviceFlow(context.apiUri, provider.provider, { print: (t) => print(`${t}\nWaiting...`), poll: () => print('.') })
      .catch((error: unknown) => { throw error instanceof DeviceFlowError ? new CliError(error.message) : error; });
    print('\n');
    context.setTokens(tokens);
    return tokens;
  }
  const attempts = process.stdin.isTTY ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const username = (await answers.ask('Username: ')).trim();
    if (!username) throw new CliError('Aborted!');
    const password = await answers.ask('Password: ', true);
    if (!password) throw new CliError('A password is required');
    try {
      return await context.login(username, password, provider.provider);
    } catch (error) {
      if (error instanceof TiledClientError && error.status === 401 && attempt < attempts) {
        process.stderr.write('Username or password not recognized. Retry, or press Enter to cancel.\n');
        continue;
      }
      throw error;
    }
  }
}

function confirmationFor(provider: string | undefined, tokens: TokenResponse, providers: AuthProvider[]): string {
  const chosen = providers.find((p) => p.provider === (tokens.identity?.provider ?? provider));
  const message = chosen?.confirmation_message ?? '';
  return message.replace(/\{id\}/g, tokens.identity?.id ?? '');
}

export function registerLoginCommands(program: Command): void {
  program
    .command('login')
    .description('Log in to an authenticated Tiled server.')
    .addOption(profileOption())
    .option('--provider <name>', 'Authentication provider to use when the server has several')
    .option('--show-secret-tokens', 'Print the tokens (secrets!) as JSON after logging in')
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (flags: ProfileFlags & { provider?: string; showSecretTokens?: boolean }) => {
      const context = await contextForProfile(flags);
      const tokens = await promptLogin(context, flags);
      const message = confirmationFor(flags.provider, tokens, await context.providers());
      if (message) process.stdout.write(`${message}\n`);
      if (flags.showSecretTokens) process.stdout.write(`${JSON.stringify(tokens, null, 2)}\n`);
    });

  program
    .command('logout')
    .description('Log out: end the session on the server and delete cached tokens.')
    .addOption(profileOption())
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (flags: ProfileFlags) => {
      const context = await contextForProfile(flags);
      if (context.usingApiKey) return;
      context.useCachedTokens();
      await context.logout();
    });

  program
    .command('whoami')
    .description('Show the identities of the logged-in user (or of the API key in TILED_API_KEY).')
    .addOption(profileOption())
    .option('--explain <path>', 'Instead, explain whether you may use --scope on the node at this path, and which layer decides (tiled-ts)')
    .option('--scope <scope>', 'The scope --explain asks about', 'read:metadata')
    .option('--json', 'With --explain: print the explanation as JSON')
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (flags: ProfileFlags & { explain?: string; scope: string; json?: boolean }) => {
      const context = await contextForProfile(flags);
      const about = await context.about();
      if (!about.authentication.links) {
        process.stdout.write('This is a single-user server: it has one static API key and no user identities.\n');
        return;
      }
      if (flags.explain !== undefined) {
        if (!context.usingApiKey && !context.useCachedTokens()) throw new CliError('Not authenticated. Log in with `tiled login`, or set TILED_API_KEY.');
        const explanation = await context.explain(flags.explain, flags.scope);
        process.stdout.write(flags.json ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation));
        if (!explanation.allowed) process.exitCode = 1;
        return;
      }
      if (!context.usingApiKey && !context.useCachedTokens()) {
        process.stdout.write('Not authenticated.\n');
        return;
      }
      let principal;
      try {
        principal = await context.whoami();
      } catch (error) {
        if (error instanceof TiledClientError && error.status === 401) principal = null;
        else throw error;
      }
      if (!principal) {
        process.stdout.write('Not authenticated.\n');
        return;
      }
      process.stdout.write(`${principal.identities.map((identity) => identity.id).join(',')}\n`);
      if (context.usingApiKey) {
        // What this key may reach, when it is narrower than its owner (docs/access-control.md).
        const key = await context.whichApiKey();
        const limits = [
          ...(key.access_tags ? [`restricted to access tags ${key.access_tags.join(', ') || '(none)'}`] : []),
          ...(key.path ? [`bound to ${key.path}`] : []),
        ];
        if (limits.length) process.stdout.write(`API key ${key.first_eight}: ${limits.join('; ')}\n`);
      }
    });
}

/** `whoami --explain`: the verdict, then each layer consulted, in order. */
export function formatExplanation(explanation: Explanation): string {
  const verdict = explanation.allowed ? 'ALLOWED' : 'REFUSED';
  const lines = [`${verdict}: ${explanation.scope} on ${explanation.path} (decided by ${explanation.decided_by}: ${explanation.reason})`];
  for (const layer of explanation.layers) lines.push(`  ${layer.outcome === 'allowed' ? 'ok     ' : 'refused'}  ${layer.layer.padEnd(11)}  ${layer.detail}`);
  return `${lines.join('\n')}\n`;
}
