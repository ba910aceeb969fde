import { compareOrUpdate, Mode, routeEntries, routeLines } from './route-table';

/*
 * The route → scope snapshot. Every route of the app, built by the real bootstrap, as
 * `METHOD path → scopes | public | authenticated`. A diff here is a permission change: review it as one,
 * then regenerate with `UPDATE_ROUTE_SNAPSHOT=1 npx jest test/meta/route-scopes`.
 */
const MODES: Mode[] = ['single-user', 'multi-user'];

describe.each(MODES)('routes in %s mode', (mode) => {
  it('every route declares @Public, @Authenticated or @Scopes and goes through the guard', async () => {
    const offenders = (await routeEntries(mode))
      .filter((route) => route.access === 'undeclared' || route.access === 'unguarded')
      .map((route) => `${route.method} ${route.path} (${route.source}: ${route.access})`);
    expect(offenders).toEqual([]);
  });

  it('matches the committed route → scope snapshot', async () => {
    const { expected, actual } = compareOrUpdate(mode, await routeLines(mode));
    expect(actual).toBe(expected);
  });
});

describe('the route table on a deliberately broken app', () => {
  it('names a handler without access decorators and a route added behind Nest', async () => {
    const { spawnSync } = await import('node:child_process');
    const { join } = await import('node:path');
    const result = spawnSync(process.execPath, [join(__dirname, 'fixtures', 'undeclared-routes-app.js')], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      'GET /fixture/declared → read:data',
      'GET /fixture/forgotten → UNDECLARED (ForgetfulController.forgotten has no @Public, @Authenticated or @Scopes)',
      'GET /fixture/open → public',
      'GET /raw → UNGUARDED (registered on Fastify outside Nest; the guard never runs)',
    ]);
  });
});
