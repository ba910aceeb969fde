import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('docs/plugins/authoring.md', () => {
  it('should show, verbatim, the minimal authenticator that the plugin-loading tests load', () => {
    const doc = readFileSync(join(root, 'docs', 'plugins', 'authoring.md'), 'utf8');
    const fixture = readFileSync(join(root, 'test', 'fixtures', 'plugins', 'static-users', 'index.js'), 'utf8');
    expect(doc).toContain('```js\n' + fixture + '```');
  });

  it('should show, verbatim, the TypeScript plugin package that the package-install test builds and installs', () => {
    const doc = readFileSync(join(root, 'docs', 'plugins', 'authoring.md'), 'utf8');
    const plugin = join(root, 'test', 'fixtures', 'plugins', 'file-users');
    for (const [file, fence] of [
      ['package.json', 'json'],
      ['tsconfig.json', 'json'],
      [join('src', 'index.ts'), 'ts'],
    ]) {
      expect(doc).toContain('```' + fence + '\n' + readFileSync(join(plugin, file), 'utf8') + '```');
    }
  });

  it('should start with the install commands', () => {
    const doc = readFileSync(join(root, 'docs', 'plugins', 'authoring.md'), 'utf8');
    expect(doc.split('\n').slice(2, 10).join('\n')).toMatch(/npm pack[\s\S]*npm install --save-dev \.\.\/tiled-ts-0\.1\.0\.tgz[\s\S]*npm install --ignore-scripts \.\.\/tiled-ts-0\.1\.0\.tgz/);
  });
});
