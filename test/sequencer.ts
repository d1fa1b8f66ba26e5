// Test file order for `npm test`: the e2e tier runs in two lanes, and a lane that picks up a
// file of minutes (attacks.test.ts) last finishes minutes after the other. Longest first evens the
// lanes out (the classic longest-processing-time rule), so the known long files start first.
//
// The order is fixed, not learned from vitest's cache: a cold clone in CI has no cache, and the
// same order on every machine makes a failure replay. The seconds are per-file times from the
// summary's "slowest test files" lines; they only rank, so they need updating only when a file's
// rank changes a lot. A file not listed counts as 0 s and runs after the listed ones, by path.
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Seconds per file (path from the repo root): `npm test` on a 2-core machine shared with other
 * work (2026-12-05), e2e files in two lanes; only the order matters. Files under 20 s are left out.
 */
export const KNOWN_SECONDS: Readonly<Record<string, number>> = {
  // e2e, two lanes
  "test/e2e/attacks.test.ts": 421,
  "test/e2e/plan-apply.test.ts": 309,
  "test/e2e/pipeline.test.ts": 191,
  "test/e2e/engine.test.ts": 185,
  "test/e2e/sessions.test.ts": 183,
  "test/e2e/policy-pack.test.ts": 163,
  "test/e2e/local-credentials.test.ts": 132,
  "test/e2e/concurrency.test.ts": 124,
  "test/e2e/control-plane.test.ts": 109,
  "test/e2e/audit-import.test.ts": 102,
  "test/e2e/audit-tamper.test.ts": 100,
  "test/e2e/isolation.test.ts": 84,
  "test/e2e/boundary-takeback-engine.test.ts": 81,
  "test/e2e/secret-canary.test.ts": 81,
  "test/e2e/adopt-old-provider.test.ts": 72,
  "test/e2e/secrets-and-failures.test.ts": 55,
  "test/e2e/package.test.ts": 54,
  "test/e2e/isolation-matrix.test.ts": 40,
  "test/e2e/audit-report.test.ts": 33,
  // e2e-kill, one lane
  "test/e2e/interrupted-apply.test.ts": 276,
  "test/e2e/checkpoint-free-kill.test.ts": 91,
  // unit, two lanes
  "test/ci/plan-script.test.ts": 43,
  "test/config/hostile.test.ts": 40,
  "test/cli/bin-exit.test.ts": 25,
};

export interface Ranked {
  /** sequence.groupOrder of the file's project: groups run one after another, lowest first. */
  readonly group: number;
  readonly project: string;
  /** Path from the repo root, with forward slashes. */
  readonly file: string;
}

/** Group, then project, then longest known first, then path: a total order, the same everywhere. */
export function compareRanked(a: Ranked, b: Ranked, known: Readonly<Record<string, number>> = KNOWN_SECONDS): number {
  if (a.group !== b.group) return a.group - b.group;
  if (a.project !== b.project) return a.project < b.project ? -1 : 1;
  const seconds = (known[b.file] ?? 0) - (known[a.file] ?? 0);
  if (seconds !== 0) return seconds;
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const ranked = (spec: TestSpecification): Ranked => ({
      group: spec.project.config.sequence.groupOrder,
      project: spec.project.name,
      file: relative(root, spec.moduleId).split("\\").join("/"),
    });
    return [...files].sort((a, b) => compareRanked(ranked(a), ranked(b)));
  }
}
