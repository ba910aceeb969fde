import { createServer } from 'node:net';
import { ProviderUnavailableError } from '../plugins-api';
import { pluginFailureStatus } from './plugin-failure';

describe('pluginFailureStatus', () => {
  it('answers 503 for a ProviderUnavailableError, also one from another copy of the plugin API', () => {
    expect(pluginFailureStatus(new ProviderUnavailableError('LDAP is down'))).toBe(503);
    // A plugin installed in its own folder loads its own copy of tiled-ts: same brand, different class.
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const otherCopy = require('../plugins-api') as typeof import('../plugins-api');
      const error = new otherCopy.ProviderUnavailableError('LDAP is down');
      expect(error).not.toBeInstanceOf(ProviderUnavailableError);
      expect(pluginFailureStatus(error)).toBe(503);
    });
  });

  it('answers 500 for any other error, whatever its message says', () => {
    expect(pluginFailureStatus(new Error('directory unavailable, connection timed out'))).toBe(500);
    expect(pluginFailureStatus('unreachable')).toBe(500);
    expect(pluginFailureStatus(null)).toBe(500);
  });

  it('answers 503 when a network error escapes the plugin (fetch to a closed port)', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(pluginFailureStatus(error)).toBe(503);
  });
});
