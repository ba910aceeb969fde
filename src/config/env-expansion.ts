/** `${NAME}` / `$NAME` expansion in YAML string values, as Tiled 0.2.16 does but stricter on unset variables. */

export type KeyPath = (string | number)[];

export interface ExpansionProblem {
  path: KeyPath;
  message: string;
}

export interface ExpansionResult {
  value: unknown;
  problems: ExpansionProblem[];
  /** JSON pointers of values that came (partly) from an environment variable whose name looks secret. */
  secretPointers: Set<string>;
}

// `$$` is an escape for a literal `$`; `$5` is not a reference (names start with a letter or `_`).
const REFERENCE = /\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
/** `NAME`, or `NAME:-default` (POSIX: the default applies when NAME is unset or empty). */
const NAME_WITH_DEFAULT = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;
const SECRET_WORD = /pass(word|wd)?|secret|token|api_?key|private|credential/i;

/** A key path or variable name that suggests its value must never be printed. */
export function looksSecret(words: readonly (string | number)[]): boolean {
  return words.some((word) => typeof word === 'string' && SECRET_WORD.test(word));
}

export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out || '(top level)';
}

export function toPointer(path: KeyPath): string {
  return '/' + path.map((segment) => String(segment).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/**
 * Expand every string value (keys are left alone). An unset variable is an error naming the variable and
 * the key path — deliberately unlike Tiled, which leaves `${X}` in place and fails later, far from the cause.
 */
export function expandEnvironment(input: unknown, env: NodeJS.ProcessEnv): ExpansionResult {
  const problems: ExpansionProblem[] = [];
  const secretPointers = new Set<string>();

  const expandString = (text: string, path: KeyPath): string => {
    let fromSecret = false;
    const out = text.replace(REFERENCE, (match: string, braced: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      const parsed = NAME_WITH_DEFAULT.exec(braced ?? bare ?? '');
      if (!parsed) {
        problems.push({ path, message: `"${match}" is not a valid variable reference; expected \${NAME} or \${NAME:-default} with letters, digits and "_" (write $$ for a literal $)` });
        return match;
      }
      const [, name, fallback] = parsed;
      const value = fallback !== undefined && !env[name] ? fallback : env[name];
      if (value === undefined) {
        problems.push({ path, message: `environment variable ${name} is not set (referenced as "${match}")` });
        return match;
      }
      if (looksSecret([name])) fromSecret = true;
      return value;
    });
    if (fromSecret) secretPointers.add(toPointer(path));
    return out;
  };

  const walk = (value: unknown, path: KeyPath): unknown => {
    if (typeof value === 'string') return expandString(value, path);
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = walk(item, [...path, key]);
      return out;
    }
    return value;
  };

  return { value: walk(input, []), problems, secretPointers };
}
