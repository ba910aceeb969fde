import type { Strategy } from 'passport';

/** How one `strategy.authenticate()` call ended, as passport's middleware would see it. */
export type StrategyResult =
  | { kind: 'redirect'; url: string }
  | { kind: 'success'; user: unknown }
  | { kind: 'fail'; challenge: unknown }
  | { kind: 'error'; error: unknown };

/** The request fields passport-oauth2 reads; the host's request never reaches the plugin. */
export interface StrategyRequest {
  query: Record<string, string>;
  body?: undefined;
  headers: Record<string, string>;
  /** Read back by the plugin's state store and verify callback (see oauth2-authenticator.ts). */
  tiled: { codeVerifier?: string; nonce?: string };
}

interface StrategyActions {
  redirect(url: string): void;
  success(user: unknown): void;
  fail(challenge?: unknown): void;
  error(error: unknown): void;
  pass(): void;
  authenticate(request: StrategyRequest, options: Record<string, unknown>): void;
}

/**
 * Run a passport strategy once and turn its callbacks into a promise. This is what passport's own
 * `authenticate()` middleware does (a per-request `Object.create(strategy)` with the action methods
 * attached), minus Express: the host owns the HTTP exchange, so the plugin needs no response bridge.
 */
export function runStrategy(strategy: Strategy, request: StrategyRequest, options: Record<string, unknown>): Promise<StrategyResult> {
  return new Promise((resolve) => {
    const action = Object.create(strategy) as StrategyActions;
    action.redirect = (url) => resolve({ kind: 'redirect', url });
    action.success = (user) => resolve({ kind: 'success', user });
    action.fail = (challenge) => resolve({ kind: 'fail', challenge });
    action.error = (error) => resolve({ kind: 'error', error });
    action.pass = () => resolve({ kind: 'error', error: new Error('The OAuth2 strategy passed the request on') });
    try {
      action.authenticate(request, options);
    } catch (error) {
      resolve({ kind: 'error', error });
    }
  });
}
