import type { FastifyRequest } from 'fastify';
import { AUTH_BODY_LIMIT, DATA_BODY_LIMIT, DEFAULT_BODY_LIMIT, METADATA_BODY_LIMIT, bodyLimitFor, nestsDeeperThan, rawDataLimit } from './json-limits';

describe('json-limits', () => {
  describe('nestsDeeperThan', () => {
    it('should count arrays and objects, not brackets inside strings', () => {
      expect(nestsDeeperThan(Buffer.from('[[{"a":[1]}]]'), 4)).toBe(false);
      expect(nestsDeeperThan(Buffer.from('[[{"a":[1]}]]'), 3)).toBe(true);
      expect(nestsDeeperThan(Buffer.from(JSON.stringify(['[[[[[', '{{{{', 'quote \\" [['])), 1)).toBe(false);
    });

    it('should scan 10,000 levels without recursion', () => {
      expect(nestsDeeperThan(Buffer.from(`${'['.repeat(10_000)}${']'.repeat(10_000)}`), 32)).toBe(true);
    });
  });

  describe('bodyLimitFor', () => {
    it('should give auth routes the small limit and data list routes the large one', () => {
      expect(bodyLimitFor('/api/v1/auth/session/refresh')).toBe(AUTH_BODY_LIMIT);
      expect(bodyLimitFor('/api/v1/auth/principal/:uuid/apikey')).toBe(AUTH_BODY_LIMIT);
      expect(bodyLimitFor('/api/v1/table/full/*')).toBe(DATA_BODY_LIMIT);
      expect(bodyLimitFor('/api/v1/container/full')).toBe(DATA_BODY_LIMIT);
      expect(bodyLimitFor('/api/v1/metadata/*')).toBe(METADATA_BODY_LIMIT);
      expect(bodyLimitFor('/api/v1/about')).toBe(DEFAULT_BODY_LIMIT);
    });

    it('should read raw data against the write limit on data writes only, and parse JSON there no further than a field list', () => {
      const request = (method: string, url: string, bodyLimit: number): FastifyRequest => ({ method, routeOptions: { url, bodyLimit } }) as unknown as FastifyRequest;
      expect(bodyLimitFor('/api/v1/array/full/*', 'PUT')).toBe(DATA_BODY_LIMIT);
      expect(rawDataLimit(request('PUT', '/api/v1/array/full/*', DATA_BODY_LIMIT), 1234)).toBe(1234);
      expect(rawDataLimit(request('PATCH', '/api/v1/table/partition/*', DATA_BODY_LIMIT), 1234)).toBe(1234);
      expect(rawDataLimit(request('POST', '/api/v1/table/full/*', DATA_BODY_LIMIT), 1234)).toBe(DATA_BODY_LIMIT);
      expect(rawDataLimit(request('POST', '/api/v1/auth/apikey', AUTH_BODY_LIMIT), 1234)).toBe(AUTH_BODY_LIMIT);
    });
  });
});
