import { describe, expect, it } from "vitest";
import { compareRanked, type Ranked } from "./sequencer.ts";
import { laneTimes, lanesOf, type Span } from "./summary-reporter.ts";

const known = { "test/e2e/long.test.ts": 200, "test/e2e/mid.test.ts": 60 };
const order = (files: Ranked[]) => [...files].sort((a, b) => compareRanked(a, b, known)).map((f) => `${f.group} ${f.project} ${f.file}`);

describe("the longest-first order", () => {
  it("starts known long files first, then the rest by path, within a group", () => {
    const e2e = (file: string): Ranked => ({ group: 1, project: "e2e", file });
    expect(order([e2e("test/e2e/b.test.ts"), e2e("test/e2e/mid.test.ts"), e2e("test/e2e/a.test.ts"), e2e("test/e2e/long.test.ts")])).toEqual([
      "1 e2e test/e2e/long.test.ts", "1 e2e test/e2e/mid.test.ts", "1 e2e test/e2e/a.test.ts", "1 e2e test/e2e/b.test.ts",
    ]);
  });

  it("never moves a file out of its group: lower groups first, however long the file", () => {
    expect(order([
      { group: 2, project: "e2e-kill", file: "test/e2e/x.test.ts" },
      { group: 1, project: "e2e", file: "test/e2e/long.test.ts" },
      { group: 0, project: "unit", file: "test/z.test.ts" },
    ])).toEqual(["0 unit test/z.test.ts", "1 e2e test/e2e/long.test.ts", "2 e2e-kill test/e2e/x.test.ts"]);
  });

  it("is the same whatever order the files come in", () => {
    const files: Ranked[] = ["c", "long", "a", "mid", "b"].map((n) => ({ group: 1, project: "e2e", file: `test/e2e/${n}.test.ts` }));
    expect(order([...files].reverse())).toEqual(order(files));
  });
});

const span = (file: string, start: number, end: number, project = "e2e"): Span => ({ project, file: `test/e2e/${file}`, start: start * 1000, end: end * 1000 });

describe("the lanes in the summary", () => {
  it("puts a file in the first lane free when it started", () => {
    const lanes = lanesOf([span("a", 0, 100), span("b", 0, 30), span("c", 30, 90), span("d", 90, 95), span("e", 100, 110)]);
    expect(lanes.map((l) => l.files.map((f) => f.file.split("/").pop()))).toEqual([["a", "e"], ["b", "c", "d"]]);
    expect(lanes.map((l) => l.busy / 1000)).toEqual([110, 95]);
  });

  it("prints each project's wall time and its lanes' files", () => {
    const text = laneTimes([span("a", 0, 100), span("b", 0, 40), span("c", 41, 90), span("k", 100, 150, "e2e-kill")]);
    expect(text).toBe([
      "",
      "lanes per project (wall clock):",
      "e2e: 100.0 s wall, 3 files in 2 lane(s)",
      "  lane 1: 100.0 s busy, 1 files: a 100.0 s",
      "  lane 2: 89.0 s busy, 2 files: b 40.0 s, c 49.0 s",
      "e2e-kill: 50.0 s wall, 1 files in 1 lane(s)",
      "  lane 1: 50.0 s busy, 1 files: k 50.0 s",
      "",
    ].join("\n"));
  });
});
