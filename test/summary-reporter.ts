// Ends every `npm test` with the slowest test files and each project's lanes (so CI shows where
// its minutes go) and one plain line, "tests: N passed, N failed[, N skipped]", which CI reads
// whatever the runner's own format.
import { relative } from "node:path";
import type { Reporter, SerializedError, TestModule } from "vitest/node";

/** Files listed by time; the rest are summed into one line. */
const SLOWEST = 20;

export default class SummaryReporter implements Reporter {
  /** Wall-clock start and end of each file (moduleId), as its worker picked it up and finished it. */
  private readonly spans = new Map<string, { start: number; end?: number }>();

  onTestModuleQueued(module: TestModule): void {
    this.spans.set(module.moduleId, { start: Date.now() });
  }

  onTestModuleEnd(module: TestModule): void {
    const span = this.spans.get(module.moduleId);
    if (span) span.end = Date.now();
  }

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
    process.stdout.write(laneTimes(modules.flatMap((module) => {
      const span = this.spans.get(module.moduleId);
      return span?.end === undefined ? [] : [{ project: module.project.name || "-", file: relative(process.cwd(), module.moduleId), start: span.start, end: span.end }];
    })));
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
  lines.push(`per project, file times summed (files run side by side, see the lanes): ${[...projects].map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`).join(", ")}`);
  return lines.join("\n") + "\n";
}

export interface Span {
  readonly project: string;
  readonly file: string;
  /** Wall clock, ms. */
  readonly start: number;
  readonly end: number;
}

export interface Lane {
  readonly files: Span[];
  /** Time spent running files, ms (the rest of the project's wall time the lane stood idle). */
  readonly busy: number;
}

/**
 * The lanes a project's files ran in, rebuilt from when each started and ended: a file goes to
 * the first lane free at its start (the pool hands a free worker the next file), else a new one.
 */
export function lanesOf(spans: readonly Span[]): Lane[] {
  const lanes: Span[][] = [];
  for (const span of [...spans].sort((a, b) => a.start - b.start || a.file.localeCompare(b.file))) {
    const free = lanes.find((lane) => lane.at(-1)!.end <= span.start);
    if (free) free.push(span);
    else lanes.push([span]);
  }
  return lanes.map((files) => ({ files, busy: files.reduce((sum, f) => sum + f.end - f.start, 0) }));
}

/**
 * Per project, in the order they ran: its wall time and each lane's busy time and files in order
 * with their own time, so a CI log shows which lane finished last and why.
 */
export function laneTimes(spans: readonly Span[]): string {
  if (spans.length === 0) return "";
  const projects = new Map<string, Span[]>();
  for (const span of [...spans].sort((a, b) => a.start - b.start)) projects.set(span.project, [...(projects.get(span.project) ?? []), span]);
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = ["", "lanes per project (wall clock):"];
  for (const [project, list] of projects) {
    const from = Math.min(...list.map((x) => x.start));
    const to = Math.max(...list.map((x) => x.end));
    const lanes = lanesOf(list);
    lines.push(`${project}: ${s(to - from)} wall, ${list.length} files in ${lanes.length} lane(s)`);
    // The unit tier's dozens of short files would bury the e2e lanes: listed only for few files.
    lanes.forEach((lane, i) => {
      const detail = list.length > 40 ? "" : `: ${lane.files.map((f) => `${f.file.split("/").pop()} ${s(f.end - f.start)}`).join(", ")}`;
      lines.push(`  lane ${i + 1}: ${s(lane.busy)} busy, ${lane.files.length} files${detail}`);
    });
  }
  return lines.join("\n") + "\n";
}
