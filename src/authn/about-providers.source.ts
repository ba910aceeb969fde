import type { AboutProvider, AboutProvidersSource } from '../about/about.providers';
import type { AuthenticatorRegistry } from '../plugin-host/authenticator-registry';

/** Python clients older than 0.1.0b17 only understand the old name of the internal mode. */
function prefersPasswordMode(userAgent: string | undefined): boolean {
  const match = /^python-tiled\/(\d+)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?/.exec(userAgent ?? '');
  if (!match) return false;
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (major !== 0 || minor !== 1 || patch !== 0) return major === 0 && minor < 1;
  const stage = match[4];
  if (stage === 'a') return true;
  if (stage === 'b') return Number(match[5]) < 17;
  return false;
}

/** The about document's `authentication.providers` (as 01-about.txt shows it), one entry per configured provider. */
export class RegistryAboutProviders implements AboutProvidersSource {
  constructor(private readonly registry: AuthenticatorRegistry) {}

  describe(apiBase: string, userAgent: string | undefined): AboutProvider[] {
    return this.registry.all().map(({ provider, authenticator }): AboutProvider => {
      if (authenticator.mode === 'internal') {
        return {
          provider,
          mode: prefersPasswordMode(userAgent) ? 'password' : 'internal',
          links: { auth_endpoint: `${apiBase}/auth/provider/${provider}/token` },
          confirmation_message: authenticator.confirmationMessage ?? '',
          extra_scopes: null,
        };
      }
      const proxied = authenticator.proxied;
      if (proxied) {
        // Clients run the device flow at the provider itself and send its tokens (Tiled's ProxiedOIDCAuthenticator).
        return {
          provider,
          mode: 'external',
          links: {
            auth_endpoint: proxied.deviceAuthorizationEndpoint,
            authorize_endpoint: `${apiBase}/auth/provider/${provider}/authorize`,
            client_id: proxied.deviceFlowClientId,
            token_endpoint: proxied.tokenEndpoint,
          },
          confirmation_message: authenticator.confirmationMessage ?? '',
          extra_scopes: [...proxied.extraScopes],
        };
      }
      return {
        provider,
        mode: 'external',
        links: { auth_endpoint: `${apiBase}/auth/provider/${provider}/authorize` },
        confirmation_message: authenticator.confirmationMessage ?? '',
        extra_scopes: null,
      };
    });
  }

  sessionLinks(): { refresh_session: string; logout?: string } | undefined {
    for (const { authenticator } of this.registry.all()) {
      const proxied = authenticator.mode === 'external' ? authenticator.proxied : undefined;
      // Tiled puts the provider's end_session_endpoint there even when it has none (null); a client would
      // then fail on logout, so this server's own logout stands in.
      if (proxied) return { refresh_session: proxied.tokenEndpoint, logout: proxied.endSessionEndpoint };
    }
    return undefined;
  }
}
