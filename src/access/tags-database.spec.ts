import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TagsDatabaseError, tagsDatabaseFile } from './tags-database';

describe('tagsDatabaseFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-tags-uri-'));
    writeFileSync(join(dir, 'beside-config.sqlite'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should accept every spelling Tiled\'s AccessTagsParser accepts', () => {
    expect(tagsDatabaseFile('file:/srv/tags.sqlite', dir)).toBe('/srv/tags.sqlite');
    expect(tagsDatabaseFile('sqlite:////srv/tags.sqlite', dir)).toBe('/srv/tags.sqlite');
    expect(tagsDatabaseFile('sqlite+aiosqlite:////srv/tags.sqlite?mode=ro', dir)).toBe('/srv/tags.sqlite');
    expect(tagsDatabaseFile('file:sqlite:////srv/tags.sqlite', dir)).toBe('/srv/tags.sqlite');
  });

  it('should look a relative path up from the working directory, then from the config file\'s directory', () => {
    expect(tagsDatabaseFile('file:beside-config.sqlite', dir)).toBe(join(dir, 'beside-config.sqlite'));
    expect(tagsDatabaseFile('file:package.json', dir)).toBe(resolve('package.json'));
  });

  it('should refuse URIs that name no SQLite file', () => {
    expect(() => tagsDatabaseFile('postgresql://host/tags', dir)).toThrow(TagsDatabaseError);
    expect(() => tagsDatabaseFile('sqlite://tags.sqlite', dir)).toThrow('three slashes');
    expect(() => tagsDatabaseFile('sqlite:///:memory:', dir)).toThrow('names no file');
  });
});
