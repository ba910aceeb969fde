import { parseTiledUri } from './context';
import { slicedShape } from './nodes';
import { queries, queryParams } from './queries';
import { formatUtc, parseTimeString } from './time';
import { quotePlus } from './token-cache';

describe('parseTimeString', () => {
  it('should read bare digits as seconds', () => expect(parseTimeString('600')).toBe(600));
  it('should read units as Tiled does', () => {
    expect(parseTimeString('10m')).toBe(600);
    expect(parseTimeString('3d')).toBe(3 * 86400);
    expect(parseTimeString('1y')).toBe(365 * 86400);
  });
  it('should ignore trailing text after the first number and unit, like Tiled', () => expect(parseTimeString('10m30s')).toBe(600));
  it('should refuse anything else with Tiled\'s message', () =>
    expect(() => parseTimeString('bogus')).toThrow("Could not parse bogus as a number and a unit like '5m'"));
});

describe('formatUtc', () => {
  it('should show msgpack dates and ISO strings (naive = UTC) to the second', () => {
    expect(formatUtc(new Date('2022-01-31T18:32:33.123Z'))).toBe('2022-01-31T18:32:33');
    expect(formatUtc('2022-01-31T18:32:33')).toBe('2022-01-31T18:32:33');
    expect(formatUtc('2022-01-31T19:32:33+01:00')).toBe('2022-01-31T18:32:33');
  });
  it('should show a dash for no value', () => expect(formatUtc(null)).toBe('-'));
});

describe('parseTiledUri', () => {
  it('should find the API under a bare server URL', () =>
    expect(parseTiledUri('http://localhost:8000')).toEqual({ apiUri: 'http://localhost:8000/api/v1/', path: [], apiKey: undefined }));
  it('should take the node path and the key from a metadata URL', () =>
    expect(parseTiledUri('http://h:1/prefix/api/v1/metadata/a/b?api_key=abc')).toEqual({
      apiUri: 'http://h:1/prefix/api/v1/',
      path: ['a', 'b'],
      apiKey: 'abc',
    }));
  it('should refuse what is not an http URL', () => expect(() => parseTiledUri('localhost:8000')).toThrow(/http/));
});

describe('quotePlus', () => {
  it('should name the token directory as Python quote_plus does', () =>
    expect(quotePlus('http://localhost:8000/api/v1/')).toBe('http%3A%2F%2Flocalhost%3A8000%2Fapi%2Fv1%2F'));
});

describe('queryParams', () => {
  it('should encode filters as filter[NAME][condition][FIELD] with JSON values', () => {
    const params = queryParams([queries.eq('color', 'red'), queries.eq('n', 3), queries.fullText('dog')]);
    expect(params.getAll('filter[eq][condition][key]')).toEqual(['color', 'n']);
    expect(params.getAll('filter[eq][condition][value]')).toEqual(['"red"', '3']);
    expect(params.get('filter[fulltext][condition][text]')).toBe('dog');
  });
});

describe('slicedShape', () => {
  it('should follow numpy basic indexing', () => {
    expect(slicedShape([10, 10], ':2,::3')).toEqual([2, 4]);
    expect(slicedShape([10, 10], '3')).toEqual([10]);
    expect(slicedShape([10], '-3:')).toEqual([3]);
    expect(slicedShape([10], '::-1')).toEqual([10]);
  });
});
