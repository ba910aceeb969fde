import { RecentKeyUse } from '../principals/recent-key-use';
import { ApiKeyActivityRecorder } from './api-key-activity';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe(ApiKeyActivityRecorder.name, () => {
  describe('touch', () => {
    it('should write at most once per interval while every use shows in the overlay', async () => {
      const writes: [number, number][] = [];
      const sut = new ApiKeyActivityRecorder(async (keyId, at) => void writes.push([keyId, at.getTime()]), quiet, 60_000);
      const start = Date.UTC(2026, 0, 1, 12, 0, 0);
      for (let second = 0; second < 59; second++) sut.touch(7, start + second * 1000 + 400);
      expect(writes).toEqual([[7, start]]);
      expect(sut.recent.latest(7, new Date(start))).toEqual(new Date(start + 58_000));
      sut.touch(7, start + 60_400);
      expect(writes).toEqual([[7, start], [7, start + 60_000]]);
    });
  });
});

describe(RecentKeyUse.name, () => {
  describe('latest', () => {
    it('should keep a stored value that is newer than anything this process saw', () => {
      const sut = new RecentKeyUse();
      sut.note(1, Date.UTC(2026, 0, 1, 12, 0, 0));
      const stored = new Date(Date.UTC(2026, 0, 1, 12, 0, 30));
      expect(sut.latest(1, stored)).toBe(stored);
    });

    it('should return the stored value of a key this process never saw', () => {
      const sut = new RecentKeyUse();
      expect(sut.latest(2, null)).toBeNull();
    });
  });
});
