import { RE2JS, RE2JSException } from 're2js';
import { BadRequestError } from '../../common/errors/tiled-http.error';

/*
 * `regex` and `like` filters run on RE2 (re2js): matching time is linear in the text, so no pattern can
 * make a search backtrack for seconds (V8's RegExp took 14 s on `like "%%%%%%%%%!"`). What stays is the
 * cost of compiling and of the automaton's size, bounded here before any work: a pattern's length, and
 * its size once counted repetitions are expanded (`(?:.|.){0,26}` is 26 copies). docs/security.md lists
 * both limits.
 */

/** Longest `regex` or `like` pattern accepted, in characters. */
export const MAX_PATTERN_LENGTH = 256;
/** Largest pattern accepted after expanding counted repetitions (roughly RE2's program size). */
export const MAX_PATTERN_SIZE = 1000;

export type StringMatcher = (text: string) => boolean;

/**
 * An upper estimate of the compiled program's size, by one linear scan: every atom counts 1, a group the
 * sum of its parts, and `{m,n}` multiplies what precedes it by its larger bound. Compiling is what costs
 * (300 ms for 34,000 instructions), so the estimate is checked before RE2 sees the pattern.
 */
export function expandedSize(pattern: string): number {
  const groups: number[] = [0];
  let last = 0;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      i++;
      last = 1;
      groups[groups.length - 1] += 1;
    } else if (ch === '[') {
      // A class is one atom: skip to its closing bracket (a leading ']' or '^]' is a literal).
      let j = i + 1;
      if (pattern[j] === '^') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      i = j;
      last = 1;
      groups[groups.length - 1] += 1;
    } else if (ch === '(') {
      groups.push(0);
    } else if (ch === ')') {
      last = Math.max(1, groups.length > 1 ? (groups.pop() ?? 0) : 0);
      groups[groups.length - 1] += last;
    } else if (ch === '{') {
      const repeat = /^\{(\d{1,6})(?:,(\d{0,6}))?\}/.exec(pattern.slice(i, i + 16));
      if (repeat) {
        const times = Math.max(Number(repeat[1]), Number(repeat[2] || 0));
        groups[groups.length - 1] += last * Math.max(0, times - 1);
        last *= Math.max(1, times);
        i += repeat[0].length - 1;
      } else {
        last = 1;
        groups[groups.length - 1] += 1;
      }
    } else if (ch === '*' || ch === '+' || ch === '?') {
      groups[groups.length - 1] += 1;
    } else {
      last = 1;
      groups[groups.length - 1] += 1;
    }
  }
  return groups.reduce((a, b) => a + b, 0);
}

function checkLength(param: string, pattern: string): void {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new BadRequestError(`${param} is too long: ${pattern.length} characters; at most ${MAX_PATTERN_LENGTH} are accepted`);
  }
}

function compile(param: string, source: string, flags: number): StringMatcher {
  if (expandedSize(source) > MAX_PATTERN_SIZE) {
    throw new BadRequestError(`${param} is too complex: its repetitions expand beyond ${MAX_PATTERN_SIZE} elements; use fewer or smaller {m,n} counts`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, flags);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    throw new BadRequestError(
      `${param} is not a valid regular expression: ${error.message} (this server uses RE2 syntax: no backreferences, lookahead or lookbehind)`,
    );
  }
  if (re.programSize() > MAX_PATTERN_SIZE * 2) {
    throw new BadRequestError(`${param} is too complex: it compiles to ${re.programSize()} instructions; at most ${MAX_PATTERN_SIZE * 2} are accepted`);
  }
  return (text) => re.test(text);
}

/** Tiled's `regex` filter: Python's `re.search` semantics (unanchored, `.` stops at newlines), RE2 syntax. */
export function regexMatcher(pattern: string, caseSensitive: boolean): StringMatcher {
  const param = 'filter[regex][condition][pattern]';
  checkLength(param, pattern);
  return compile(param, pattern, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
}

/**
 * Tiled's `like` filter, SQL LIKE as Tiled's catalog issues it (no ESCAPE clause): `%` is any run of
 * characters, `_` any one character, everything else literal, case-sensitive, the whole value must match.
 * Runs of `%` mean the same as one and are collapsed.
 */
export function likeMatcher(pattern: string): StringMatcher {
  const param = 'filter[like][condition][pattern]';
  checkLength(param, pattern);
  let source = '';
  for (const ch of pattern.replace(/%+/g, '%')) source += ch === '%' ? '.*' : ch === '_' ? '.' : RE2JS.quote(ch);
  return compile(param, `^${source}$`, RE2JS.DOTALL);
}
