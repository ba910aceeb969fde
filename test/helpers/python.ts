import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { itUnlessMissing } from './optional-suite';

/**
 * Env contract for the tests that read our output with the Python ecosystem's readers (the same as
 * Chromium's, test/helpers/browser.ts):
 * - `TILED_TEST_PYTHON`: the python3 to run. Unset, Debian's `/usr/bin/python3` (where apt installs the
 *   readers; a pyenv or virtualenv `python3` earlier on PATH usually lacks them), else `python3`.
 * - `CI=true` makes a missing interpreter or module fail the suite; elsewhere it is skipped with one line.
 */
export const PYTHON_ENV = 'TILED_TEST_PYTHON';
const DEBIAN_PYTHON = '/usr/bin/python3';
/** The scripts the suites run, committed next to this folder. */
export const PYTHON_SCRIPTS = join(__dirname, '..', 'python');

/** Import names of the readers, and the Debian 12 packages that bring them. */
const MODULES: Readonly<Record<string, string>> = {
  numpy: 'python3-numpy',
  h5py: 'python3-h5py',
  zarr: 'python3-zarr',
  numcodecs: 'python3-numcodecs',
  fsspec: 'python3-fsspec',
  aiohttp: 'python3-aiohttp',
  tifffile: 'python3-tifffile',
  pandas: 'python3-pandas',
  openpyxl: 'python3-openpyxl',
};

const HOW_TO_INSTALL =
  `"apt-get install ${[...new Set(Object.values(MODULES))].join(' ')}" (Debian 12), ` +
  `or set ${PYTHON_ENV} to a python3 that has ${Object.keys(MODULES).join(', ')} (zarr 2.x)`;

export function pythonExecutable(): string {
  return process.env[PYTHON_ENV] ?? (existsSync(DEBIAN_PYTHON) ? DEBIAN_PYTHON : 'python3');
}

/** Why the readers cannot run here, or undefined when they can. */
export function missingPythonReaders(): string | undefined {
  const python = pythonExecutable();
  const probe = spawnSync(python, ['-c', 'import importlib.util, sys; print(" ".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))', ...Object.keys(MODULES)], {
    encoding: 'utf8',
  });
  if (probe.error || probe.status !== 0) return `${python} cannot be run (${probe.error?.message ?? probe.stderr.trim()})`;
  const missing = probe.stdout.trim();
  return missing ? `${python} lacks ${missing.split(' ').join(', ')}` : undefined;
}

export interface PythonResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The Python readers of one suite: `it` is jest's `it` where they must run, and `it.skip` (after one line
 * on stderr saying what to install) where something is missing and CI is not set.
 */
export class SuitePython {
  readonly it: jest.It;
  private readonly missing = missingPythonReaders();

  constructor() {
    this.it = itUnlessMissing(this.missing, 'Python reader tests', `install: ${HOW_TO_INSTALL}`);
  }

  /** Run a script of test/python with its arguments and stdin; a missing reader under CI=true fails here, saying what to install. */
  run(script: string, args: readonly string[] = [], input = ''): Promise<PythonResult> {
    if (this.missing) return Promise.reject(new Error(`${this.missing}: CI=true, so the Python reader tests cannot be skipped; install: ${HOW_TO_INSTALL}`));
    return new Promise((resolve, reject) => {
      const child = spawn(pythonExecutable(), [join(PYTHON_SCRIPTS, script), ...args], { cwd: PYTHON_SCRIPTS, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  /** Run a script that prints one JSON document; anything else (a traceback, an exit status) fails with the script's stderr. */
  async json<T>(script: string, args: readonly string[] = [], input: unknown = undefined): Promise<T> {
    const result = await this.run(script, args, input === undefined ? '' : JSON.stringify(input));
    if (result.code !== 0) throw new Error(`python3 ${script} exited with ${result.code}:\n${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }
}
