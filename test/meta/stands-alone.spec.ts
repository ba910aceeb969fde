import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

/**
 * The repository stands alone: a reader (or a test) on any machine has every file that code, tests,
 * comments and docs point at. Citations name files inside the repository (docs/*.md, the captured
 * exchanges under test/compat/fixtures/) or describe the behaviour in words.
 */
const ROOT = join(__dirname, '..', '..');

/** The lockfile is npm's, not ours. */
const NOT_OURS = new Set(['package-lock.json']);

/** Without git (an unpacked tarball), the same set: everything but what .gitignore keeps out. */
const UNTRACKED = new Set(['.git', 'node_modules', 'dist', 'coverage', '.cache', '.tiled']);

function repositoryFiles(): string[] {
  try {
    return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\0')
      .filter(Boolean);
  } catch {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        // A worktree's `.git` is a file naming where the repository lives: not ours either.
        if (UNTRACKED.has(entry.name)) continue;
        if (entry.isDirectory()) walk(join(dir, entry.name));
        else if (entry.isFile()) files.push(relative(ROOT, join(dir, entry.name)));
      }
    };
    walk(ROOT);
    return files;
  }
}

const FILES = repositoryFiles().filter((file) => !NOT_OURS.has(file));
const MARKDOWN = new Set(FILES.filter((file) => file.endsWith('.md')).map((file) => basename(file)));

const OUTSIDE: [why: string, pattern: RegExp][] = [
  ['an absolute path to the team machine', /\/work\//],
  ['a path to the team\'s shared folder', /\.\.\/shared\b|\bshared\/(spec|reference)\b/],
  ['a citation of a spec file that is not in the repository', /\bspec [a-z-]+\.md\b/],
];

/** A section citation (a Markdown file name, then §) must name a Markdown file the repository has. */
const SECTION_CITATION = /\b([\w-]+\.md) §/g;

function offences(file: string): string[] {
  const content = readFileSync(join(ROOT, file));
  if (content.includes(0)) return [];
  const found: string[] = [];
  content
    .toString('utf8')
    .split('\n')
    .forEach((line, index) => {
      const missing = [...line.matchAll(SECTION_CITATION)].map(([, cited]) => cited).find((cited) => !MARKDOWN.has(cited));
      const why = OUTSIDE.find(([, pattern]) => pattern.test(line))?.[0] ?? (missing && `a citation of ${missing}, which is not in the repository`);
      if (why) found.push(`${file}:${index + 1}: ${why}: ${line.trim()}`);
    });
  return found;
}

describe('the repository stands alone', () => {
  it('finds the repository\'s files', () => {
    expect(FILES).toEqual(expect.arrayContaining(['README.md', 'package.json', 'test/compat/fixtures/tiled-0.2.16/README.md']));
  });

  it('no file points outside the repository', () => {
    expect(FILES.flatMap(offences)).toEqual([]);
  });
});
