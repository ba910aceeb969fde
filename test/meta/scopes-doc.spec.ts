import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderScopesDoc } from '../../src/common/meta/scopes-doc';
import { ALL_SCOPES, PUBLIC_SCOPES, SINGLE_USER_SCOPES } from '../../src/auth/scopes';

const DOC = join(__dirname, '..', '..', 'docs', 'scopes.md');

describe('docs/scopes.md', () => {
  it('is what `npm run docs:scopes` generates from the registry today', () => {
    // If this fails: npm run docs:scopes, then review and commit docs/scopes.md.
    expect(readFileSync(DOC, 'utf8')).toBe(renderScopesDoc());
  });

  it('lists every scope of the registry, each with its description', () => {
    const doc = renderScopesDoc();
    for (const scope of ALL_SCOPES) expect(doc).toMatch(new RegExp(`^\\| \`${scope}\` \\| \\S`, 'm'));
  });

  it('marks exactly the single-user and public scopes in their columns', () => {
    const rows = renderScopesDoc()
      .split('\n')
      .filter((line) => /^\| `[a-z:]+` \|/.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    const marked = (column: number): string[] => rows.filter((cells) => cells[column] === '✓').map((cells) => cells[1].replace(/`/g, ''));
    expect(marked(3)).toEqual([...SINGLE_USER_SCOPES].sort((a, b) => ALL_SCOPES.indexOf(a) - ALL_SCOPES.indexOf(b)));
    expect(marked(4)).toEqual([...PUBLIC_SCOPES]);
  });
});
