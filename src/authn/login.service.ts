import { Inject, Injectable, Logger } from '@nestjs/common';
import { AuthnError, AuthnErrorCode } from './authn.errors';
import { LogPseudonyms } from '../common/logging/redact';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';
import { pluginFailureStatus } from '../plugin-host/plugin-failure';
import type { AuthenticationOutcome } from '../plugins-api';
import type { PasswordGrantDto } from './dto/password-grant.dto';
import { LoginThrottle } from './login-throttle';
import { SessionsService, TokenResponse } from './sessions.service';

const INCORRECT = 'Incorrect username or password';

/**
 * The password login pipeline. The host owns it: validate the form, throttle, call the plugin, keep its
 * three outcomes apart (authenticated / rejected / broken), then open a session.
 */
@Injectable()
export class LoginService {
  private readonly logger = new Logger('Login');
  private readonly pseudonyms: LogPseudonyms;

  constructor(
    private readonly registry: AuthenticatorRegistry,
    private readonly sessions: SessionsService,
    private readonly throttle: LoginThrottle,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // The signing key, when configured, so tags match across replicas and restarts (docs/authentication.md).
    this.pseudonyms = new LogPseudonyms(config.authentication.secret_keys?.find((key) => key !== ''));
  }

  async passwordLogin(provider: string, grant: PasswordGrantDto, address: string): Promise<TokenResponse> {
    const { username, password } = grant;

    const authenticator = this.registry.internal(provider);
    // Before the throttle: a provider that does not exist is no login attempt, and counts for nothing.
    if (!authenticator) throw new AuthnError(AuthnErrorCode.unknown_provider, 'Not Found');
    const admission = await this.throttle.admit(provider, username, address);
    if (!admission.allowed) {
      this.logger.warn(`Login throttled: ${this.account(provider, username)} from ${address}`);
      throw new AuthnError(AuthnErrorCode.login_throttled, 'Too many failed login attempts. Try again later.', { 'retry-after': String(Math.ceil(admission.retryAfterMs / 1000)) });
    }

    let outcome: AuthenticationOutcome;
    try {
      outcome = await authenticator.authenticate({ username, password });
    } catch (error) {
      // A throwing plugin is broken (e.g. its directory is down); that is never "wrong password".
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error(`Authenticator for provider "${provider}" failed: ${message}`);
      await this.throttle.withdraw(admission.attempt);
      const status = pluginFailureStatus(error);
      throw new AuthnError(
        status === 503 ? AuthnErrorCode.provider_unavailable : AuthnErrorCode.provider_failed,
        status === 503 ? `The login provider "${provider}" is unavailable. Try again later.` : `The login provider "${provider}" failed. Ask the administrator to check the server log.`,
      );
    }
    if (outcome?.kind !== 'authenticated' || !outcome.identity?.id) {
      const reason = outcome?.kind === 'rejected' && outcome.reason ? ` (${outcome.reason})` : '';
      this.logger.warn(`Failed login: ${this.account(provider, username)} from ${address}${reason}`);
      throw new AuthnError(AuthnErrorCode.incorrect_credentials, INCORRECT, { 'www-authenticate': 'Bearer' });
    }
    await this.throttle.succeeded(admission.attempt);
    return this.sessions.loginWithIdentity(provider, outcome.identity);
  }

  /** What was typed as the user name may be a password typed in the wrong box: only its tag is logged. */
  private account(provider: string, username: string): string {
    return `provider "${provider}", user #${this.pseudonyms.tag(provider, username)}`;
  }
}
