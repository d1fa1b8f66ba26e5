// Ends every `npm test` with the slowest test files (so CI shows where its minutes go) and one
// plain line, "tests: N passed, N failed[, N skipped]", which CI reads whatever the runner's own
// format.
import { relative } from "node:path";
import type { Reporter, SerializedError, TestModule } from "vitest/node";

/** Files listed by time; the rest are summed into one line. */
const SLOWEST = 20;

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
    process.stdout.write(fileTimes(modules));
    const skipped = count.skipped > 0 ? `, ${count.skipped} skipped` : "";
    process.stdout.write(`\ntests: ${count.passed} passed, ${count.failed} failed${skipped}\n`);
  }
}

/** Per-file wall time (tests and hooks, plus collection), slowest first, and totals per project. */
export function fileTimes(modules: ReadonlyArray<TestModule>): string {
  const rows = modules.map((module) => {
    const d = module.diagnostic();
    return { project: module.project.name || "-", file: relative(process.cwd(), module.moduleId), ms: d.duration + d.collectDuration };
  }).sort((a, b) => b.ms - a.ms);
  if (rows.length === 0) return "";
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`.padStart(9);
  const lines = ["", `slowest test files (of ${rows.length}):`];
  for (const row of rows.slice(0, SLOWEST)) lines.push(`${seconds(row.ms)}  ${row.project.padEnd(5)} ${row.file}`);
  const rest = rows.slice(SLOWEST);
  if (rest.length > 0) lines.push(`${seconds(rest.reduce((sum, r) => sum + r.ms, 0))}  the other ${rest.length} files`);
  const projects = new Map<string, number>();
  for (const row of rows) projects.set(row.project, (projects.get(row.project) ?? 0) + row.ms);
  lines.push(`per project, file times summed (unit files run in parallel): ${[...projects].map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`).join(", ")}`);
  return lines.join("\n") + "\n";
}
