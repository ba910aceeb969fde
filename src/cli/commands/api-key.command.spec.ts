import { apiKeysTable } from './api-key.command';

describe('apiKeysTable', () => {
  const keys = [
    { first_eight: '48e8f859', expiration_time: null, latest_activity: new Date('2022-01-31T18:32:33Z'), note: null, scopes: ['inherit'], access_tags: null },
    { first_eight: 'ba9af604', expiration_time: '2022-01-31T23:03:57', latest_activity: null, note: null, scopes: ['read:metadata'], access_tags: null },
    {
      first_eight: '573928c6',
      expiration_time: null,
      latest_activity: null,
      note: 'Data validation pipeline',
      scopes: ['read:metadata', 'read:data'],
      access_tags: null,
    },
  ];

  it('should print the guide\'s columns with every column starting where its header does', () => {
    const lines = apiKeysTable(keys).trimEnd().split('\n');
    expect(lines[0]).toMatch(/^First 8 +Expires at \(UTC\) +Latest activity +Note +Scopes$/);
    const starts = ['Expires at', 'Latest activity', 'Note', 'Scopes'].map((title) => lines[0].indexOf(title));
    expect(lines[1].slice(starts[0], starts[0] + 1)).toBe('-');
    expect(lines[1].slice(starts[1]).startsWith('2022-01-31T18:32:33')).toBe(true);
    expect(lines[2].slice(starts[0]).startsWith('2022-01-31T23:03:57')).toBe(true);
    expect(lines[3].slice(starts[2]).startsWith('Data validation pipeline')).toBe(true);
    expect(lines[3].slice(starts[3])).toBe('read:metadata read:data');
    expect(lines[1].slice(starts[3])).toBe('inherit');
  });

  it('should add the Access tags column only when a key has tags', () => {
    const table = apiKeysTable([{ ...keys[0], scopes: ['read:metadata'], access_tags: ['beamline x'] }]);
    expect(table.split('\n')[0]).toMatch(/Scopes +Access tags$/);
    expect(table.split('\n')[1]).toMatch(/read:metadata +beamline\\ x$/);
  });
});
