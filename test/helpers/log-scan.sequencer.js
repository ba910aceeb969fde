const Sequencer = require('@jest/test-sequencer').default;

/** Jest's own order, except that the whole-suite log scan runs after every other spec (it reads their logs). */
class LogScanLastSequencer extends Sequencer {
  async sort(tests) {
    const sorted = [...(await super.sort(tests))];
    const last = (test) => test.path.endsWith('log-scan.e2e-spec.ts');
    return [...sorted.filter((test) => !last(test)), ...sorted.filter(last)];
  }
}

module.exports = LogScanLastSequencer;
