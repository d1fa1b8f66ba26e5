// Test file order for `npm test`: the e2e tier runs in two lanes, and a lane that picks up
// interrupted-apply (minutes) last finishes minutes after the other. Longest first evens the lanes
// out (the classic longest-processing-time rule), so the known long files start first.
//
// The order is fixed, not learned from vitest's cache: a cold clone in CI has no cache, and the
// same order on every machine makes a failure replay. The seconds are per-file times from CI's
// "slowest test files" lines; they only rank, so they need updating only when a file's rank
// changes a lot. A file not listed counts as 0 s and runs after the listed ones, by path.
import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Seconds per file (path from the repo root), from a CI run; only the order matters. */
export const KNOWN_SECONDS: Readonly<Record<string, number>> = {
  "test/e2e/interrupted-apply.test.ts": 218,
  "test/e2e/attacks.test.ts": 136,
  "test/e2e/plan-apply.test.ts": 91,
  "test/e2e/sessions.test.ts": 69,
  "test/e2e/pipeline.test.ts": 67,
  "test/e2e/engine.test.ts": 63,
  "test/e2e/policy-pack.test.ts": 58,
  "test/e2e/checkpoint-free-kill.test.ts": 55,
  "test/e2e/local-credentials.test.ts": 39,
  "test/e2e/concurrency.test.ts": 39,
  "test/e2e/control-plane.test.ts": 35,
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
