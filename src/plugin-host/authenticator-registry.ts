import type { ExternalAuthenticator, InternalAuthenticator } from '../plugins-api';
import type { LoadedAuthenticator } from './plugin-loader';

/** The started authenticators of this server, by provider name, in config order. */
export class AuthenticatorRegistry {
  private readonly byProvider: Map<string, LoadedAuthenticator>;

  constructor(loaded: LoadedAuthenticator[]) {
    this.byProvider = new Map(loaded.map((entry) => [entry.provider, entry]));
  }

  get(provider: string): LoadedAuthenticator | undefined {
    return this.byProvider.get(provider);
  }

  internal(provider: string): InternalAuthenticator | undefined {
    const entry = this.byProvider.get(provider);
    return entry?.authenticator.mode === 'internal' ? entry.authenticator : undefined;
  }

  external(provider: string): ExternalAuthenticator | undefined {
    const entry = this.byProvider.get(provider);
    return entry?.authenticator.mode === 'external' ? entry.authenticator : undefined;
  }

  all(): LoadedAuthenticator[] {
    return [...this.byProvider.values()];
  }
}
