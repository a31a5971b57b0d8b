// Tests of the summary reporter's line: a test file that fails to run counts as a failure, and the line keeps the shape CI reads.
import {
  addResult,
  buildFailureTestResult,
  createEmptyTestResult,
  makeEmptyAggregatedTestResult,
  type AggregatedResult,
  type TestResult,
} from '@jest/test-result';

type Reporter = { onRunComplete(contexts: unknown, results: AggregatedResult): void };
// The reporter is plain JavaScript (Jest loads it untransformed); its shape is typed here.
const SummaryReporter = require('./summary-reporter') as {
  new (): Reporter;
  summaryLine(results: AggregatedResult): string;
  notRunLine(results: AggregatedResult): string;
};
const { summaryLine, notRunLine } = SummaryReporter;

/** What CI reads: the plain line alone, 'N passed, N failed' with ', N skipped' after it and one word with a colon before. */
const CI_COUNT = /^jest: (\d+) passed, (\d+) failed, (\d+) skipped$/;

/** A suite that ran, with these counts, as Jest's runner reports it. */
function ran(path: string, counts: Partial<Pick<TestResult, 'numPassingTests' | 'numFailingTests' | 'numPendingTests'>>): TestResult {
  return { ...createEmptyTestResult(), testFilePath: path, ...counts };
}

/** What Jest records when a test file throws before any test runs (its scheduler calls buildFailureTestResult). */
const failedToLoad = (path: string, message: string) => buildFailureTestResult(path, { message, stack: `Error: ${message}` });

/** Aggregates suite results the way Jest's scheduler does (`addResult`). */
function aggregate(...suites: TestResult[]): AggregatedResult {
  const results = makeEmptyAggregatedTestResult();
  for (const suite of suites) addResult(results, suite);
  return results;
}

describe('summary reporter', () => {
  it('counts the tests of suites that ran', () => {
    const line = summaryLine(aggregate(ran('a.test.ts', { numPassingTests: 3, numPendingTests: 1 }), ran('b.test.ts', { numPassingTests: 2, numFailingTests: 1 })));
    expect(line).toBe('jest: 5 passed, 1 failed, 1 skipped');
    expect(line).toMatch(CI_COUNT);
  });

  it('counts a test file that failed to load as one failure, not "0 failed"', () => {
    const results = aggregate(ran('a.test.ts', { numPassingTests: 4 }), failedToLoad('broken.test.ts', 'Cannot find module'));
    expect(results.numFailedTests).toBe(0); // what the old line printed
    expect(summaryLine(results)).toBe('jest: 4 passed, 1 failed, 0 skipped');
    expect(notRunLine(results)).toBe('jest: 1 test file(s) failed to run: broken.test.ts');
    expect(Number(CI_COUNT.exec(summaryLine(results))?.[2])).toBeGreaterThanOrEqual(1);
  });

  it('counts each suite that failed to run', () => {
    const line = summaryLine(aggregate(failedToLoad('x.test.ts', 'x'), failedToLoad('y.test.ts', 'y')));
    expect(line).toBe('jest: 0 passed, 2 failed, 0 skipped');
  });

  it('does not add a failure for a suite whose own tests already failed (an afterAll error after a failing test)', () => {
    const suite = { ...ran('c.test.ts', { numPassingTests: 1, numFailingTests: 2 }), testExecError: { message: 'afterAll failed', stack: '' } };
    expect(summaryLine(aggregate(suite))).toBe('jest: 1 passed, 2 failed, 0 skipped');
  });

  it('writes the line to stdout when the run completes', () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      new SummaryReporter().onRunComplete(new Set(), aggregate(failedToLoad('broken.test.ts', 'boom')));
      expect(write).toHaveBeenCalledWith('jest: 1 test file(s) failed to run: broken.test.ts\njest: 0 passed, 1 failed, 0 skipped\n');
    } finally {
      write.mockRestore();
    }
  });
});
