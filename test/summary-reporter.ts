// Ends every `npm test` with one plain line, "tests: N passed, N failed[, N skipped]", which
// CI reads whatever the runner's own format.
import type { Reporter, SerializedError, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const module of modules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") count.passed++;
        else if (state === "failed") failedHere++;
        else count.skipped++;
      }
      // A file that failed outside its tests (import, beforeAll) must still fail the line,
      // even though its tests only show as skipped.
      count.failed += module.state() === "failed" ? Math.max(failedHere, 1) : failedHere;
    }
    count.failed += errors.length;
    const skipped = count.skipped > 0 ? `, ${count.skipped} skipped` : "";
    process.stdout.write(`\ntests: ${count.passed} passed, ${count.failed} failed${skipped}\n`);
  }
}
