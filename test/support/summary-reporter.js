// Jest reporter that ends a run with one plain line, "jest: N passed, N failed, N skipped, N suites failed to run", which CI reads as the run's count.
'use strict';

/**
 * The summary line of an aggregated Jest result. A test file that fails to run (it throws while
 * loading, has no test, or a hook outside any test fails) has no failing test of its own, only a
 * `testExecError`; it counts as one failure, so "0 failed" never hides it, and the suites that failed
 * to run are named apart. The line keeps the "N passed, N failed" shape CI reads.
 *
 * @param {import('@jest/test-result').AggregatedResult} results
 * @returns {string}
 */
function summaryLine(results) {
  const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = results;
  const didNotRun = results.testResults.filter((r) => r.testExecError);
  const uncounted = didNotRun.filter((r) => r.numFailingTests === 0).length;
  const failed = numFailedTests + uncounted;
  return `jest: ${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped, ${didNotRun.length} suites failed to run`;
}

class SummaryReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(`${summaryLine(results)}\n`);
  }
}

module.exports = SummaryReporter;
module.exports.summaryLine = summaryLine;
