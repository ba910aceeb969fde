import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DocRoute, documentedRoutes, expectedDocRoutes, formatDocRoute } from './route-table';

const DOC = join(__dirname, '..', '..', 'docs', 'http-api.md');
const key = (row: DocRoute): string => `${row.method} ${row.path} → ${row.access} (${row.modes})`;

describe('docs/http-api.md', () => {
  let expected: DocRoute[];
  let documented: DocRoute[];

  beforeAll(async () => {
    expected = await expectedDocRoutes();
    documented = documentedRoutes(readFileSync(DOC, 'utf8'));
  });

  it('documents every route the server has, with its scopes and modes', () => {
    const have = new Set(documented.map(key));
    // Each missing route is printed as a row ready to paste (fill in the last column).
    expect(expected.filter((row) => !have.has(key(row))).map(formatDocRoute)).toEqual([]);
  });

  it('has no row for a route the server does not have (or with other scopes)', () => {
    const exist = new Set(expected.map(key));
    expect(documented.filter((row) => !exist.has(key(row))).map(key)).toEqual([]);
  });

  it('lists each route once', () => {
    const seen = documented.map(key);
    expect(seen.filter((row, i) => seen.indexOf(row) !== i)).toEqual([]);
  });
});
