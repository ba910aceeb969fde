import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeTemporaryFiles, TEMP_PREFIX, writeFileAtomic } from './atomic-file';

describe('atomic files', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tiled-atomic-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe(writeFileAtomic.name, () => {
    it('should create missing directories, replace the file, and leave no temporary file', async () => {
      const target = join(root, 'a', 'b', 'chunk');
      await writeFileAtomic(target, new Uint8Array([1, 2]));
      await writeFileAtomic(target, 'replaced');
      expect(await readFile(target, 'utf8')).toBe('replaced');
      expect(await readdir(join(root, 'a', 'b'))).toEqual(['chunk']);
    });

    it('should leave the old content and no temporary file when the rename fails', async () => {
      const target = join(root, 'dir');
      await mkdir(join(target, 'inside'), { recursive: true });
      await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
      expect(await readdir(root)).toEqual(['dir']);
      expect(await readdir(target)).toEqual(['inside']);
    });
  });

  describe(removeTemporaryFiles.name, () => {
    it('should delete what a crashed writer left, at any depth, and nothing else', async () => {
      await mkdir(join(root, 'c', '0'), { recursive: true });
      await writeFile(join(root, 'zarr.json'), '{}');
      await writeFile(join(root, 'c', '0', '1'), 'chunk');
      await writeFile(join(root, 'c', '0', `${TEMP_PREFIX}1.abc`), 'half');
      await writeFile(join(root, `${TEMP_PREFIX}zarr.json.def`), '{');
      expect(await removeTemporaryFiles(root)).toBe(2);
      expect((await readdir(root, { recursive: true })).sort()).toEqual(['c', join('c', '0'), join('c', '0', '1'), 'zarr.json']);
      expect(await removeTemporaryFiles(join(root, 'missing'))).toBe(0);
    });
  });
});
