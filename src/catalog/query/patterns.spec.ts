import { TiledHttpError } from '../../common/errors/tiled-http.error';
import { MAX_PATTERN_SIZE, expandedSize, likeMatcher, regexMatcher } from './patterns';

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof TiledHttpError && error.status === 400) return String(error.detail);
    throw error;
  }
  throw new Error('expected a 400');
}

describe('patterns', () => {
  describe('likeMatcher', () => {
    it('should match SQL LIKE: % any run, _ one character, the rest literal, whole value', () => {
      expect(likeMatcher('gr%')('green')).toBe(true);
      expect(likeMatcher('gr__n')('green')).toBe(true);
      expect(likeMatcher('gr_n')('green')).toBe(false);
      expect(likeMatcher('g.%')('green')).toBe(false);
      expect(likeMatcher('a.b(c)*')('a.b(c)*')).toBe(true);
      expect(likeMatcher('%\n%')('line\nbreak')).toBe(true);
      expect(likeMatcher('Gr%')('green')).toBe(false);
    });

    // A backtracking matcher would try 10,000^200 splits and never return within Jest's timeout.
    it('should answer a run of % followed by a miss in linear time', () => {
      expect(likeMatcher(`${'%'.repeat(200)}!`)('x'.repeat(10_000))).toBe(false);
    });
  });

  describe('regexMatcher', () => {
    it('should search anywhere in the value, as Python re.search does', () => {
      expect(regexMatcher('ee', true)('green')).toBe(true);
      expect(regexMatcher('^ee', true)('green')).toBe(false);
      expect(regexMatcher('^GR', false)('green')).toBe(true);
      expect(regexMatcher('^GR', true)('green')).toBe(false);
    });

    it('should refuse what RE2 cannot run, saying why', () => {
      expect(refusal(() => regexMatcher('(a)\\1', true))).toMatch(/not a valid regular expression: .*invalid escape sequence.*RE2 syntax/);
      expect(refusal(() => regexMatcher('(?=a)', true))).toMatch(/not a valid regular expression/);
    });

    it('should refuse repeats that expand beyond the bound before compiling', () => {
      expect(expandedSize('(?:.|.){0,26}X')).toBeLessThan(MAX_PATTERN_SIZE);
      expect(expandedSize('[\\s\\S]{0,1000}[\\s\\S]{0,1000}')).toBeGreaterThan(MAX_PATTERN_SIZE);
      expect(expandedSize('(?:(?:a{10}){10}){10}')).toBeGreaterThanOrEqual(1000);
      expect(refusal(() => regexMatcher('(?:(?:a{10}){10}){11}', true))).toMatch(/too complex/);
      expect(refusal(() => regexMatcher('x'.repeat(257), true))).toMatch(/too long: 257 characters/);
    });
  });
});
