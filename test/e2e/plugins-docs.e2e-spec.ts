import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('docs/plugins/authoring.md', () => {
  it('should show, verbatim, the minimal authenticator that the plugin-loading tests load', () => {
    const doc = readFileSync(join(root, 'docs', 'plugins', 'authoring.md'), 'utf8');
    const fixture = readFileSync(join(root, 'test', 'fixtures', 'plugins', 'static-users', 'index.js'), 'utf8');
    expect(doc).toContain('```js\n' + fixture + '```');
  });
});
