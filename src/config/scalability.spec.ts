import { DEFAULT_AUTHENTICATION, AppConfig } from './app-config';
import { scalabilityProblems } from './scalability';

function multiUser(databaseUri: string): AppConfig {
  return {
    trees: [],
    allow_origins: [],
    server: { host: '127.0.0.1', port: 8000, verbose: false },
    authentication: {
      ...DEFAULT_AUTHENTICATION,
      providers: [{ provider: 'toy', authenticator: 'dictionary', args: {}, keyPath: 'authentication.providers[0]' }],
      secret_keys: ['k'],
    },
    database: { uri: databaseUri, init_if_not_exists: true, pool_size: 5 },
  };
}

describe('scalabilityProblems', () => {
  it.each(['postgresql://u@db/tiled', 'postgres://u@db/tiled', 'postgresql+asyncpg://u@db/tiled'])('accepts the PostgreSQL URI %s', (uri) => {
    expect(scalabilityProblems(multiUser(uri), undefined)).toEqual([]);
  });

  it.each(['sqlite:///auth.db', 'sqlite+aiosqlite:///auth.db'])('refuses the SQLite URI %s', (uri) => {
    expect(scalabilityProblems(multiUser(uri), undefined)).toEqual([expect.stringContaining('database.uri is not PostgreSQL')]);
  });
});
