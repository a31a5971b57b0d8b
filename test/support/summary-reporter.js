// Jest reporter that ends a run with one plain line, "jest: N passed, N failed, N skipped", which CI reads as the run's count.
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
  const uncounted = suitesFailedToRun(results).filter((r) => r.numFailingTests === 0).length;
  const failed = numFailedTests + uncounted;
  return `jest: ${numPassedTests} passed, ${failed} failed, ${numPendingTests + numTodoTests} skipped`;
}

/** @param {import('@jest/test-result').AggregatedResult} results */
function suitesFailedToRun(results) {
  return results.testResults.filter((r) => r.testExecError);
}

/**
 * The line naming the test files that failed to run, or '' when every file ran. It stands before the
 * count, which stays alone on the last line in exactly the shape CI reads.
 *
 * @param {import('@jest/test-result').AggregatedResult} results
 * @returns {string}
 */
function notRunLine(results) {
  const files = suitesFailedToRun(results).map((r) => r.testFilePath);
  return files.length === 0 ? '' : `jest: ${files.length} test file(s) failed to run: ${files.join(', ')}`;
}

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const notRun = notRunLine(results);
    process.stdout.write(`${notRun ? `${notRun}\n` : ''}${summaryLine(results)}\n`);
  }
}

module.exports = SummaryReporter;
module.exports.summaryLine = summaryLine;
module.exports.notRunLine = notRunLine;
