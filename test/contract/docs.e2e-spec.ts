import { readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('docs/plugins/authoring.md, testing section', () => {
  it('should show, verbatim, the contract spec that this suite runs on the example plugin', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'plugins', 'authoring.md'), 'utf8');
    const spec = readFileSync(join(__dirname, 'static-users.e2e-spec.ts'), 'utf8');
    expect(doc).toContain('```ts\n' + spec + '```');
  });
});
