// Hostile input through the real CLI: every case is refused with exit 1 or 2, in a few CPU
// seconds, naming file:line and a rule, with no stack trace and nothing it must not print
// (literal secrets, characters that hide text). Fixtures are generated into a temporary folder, big ones at test
// time only.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bigCases, HOSTILE_CASES, type HostileCase } from "./hostile-cases.ts";

const root = join(import.meta.dirname, "../..");
const cli = join(root, "dist/cli/tenancy.js");
/**
 * CPU seconds (user + system) a refusal may take. CPU time, not wall-clock: a busy CI machine
 * stretches the latter, not the former. A hang is caught by the wall-clock kill below.
 */
const DEFAULT_CPU_MS = 5_000;
const KILL_AFTER_MS = 60_000;
/** CLI processes at once: the bound above is wall-clock, so the machine must not be swamped. */
const PARALLEL = 2;
let running = 0;
const waiting: (() => void)[] = [];
async function slot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= PARALLEL) await new Promise<void>((go) => waiting.push(go));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tenancy-hostile-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run { code: number | null; signal: string | null; out: string; cpuMs: number }

/** Runs the CLI under bash, whose `times` reports the CPU the child used (last line on stderr). */
function validate(file: string): Promise<Run> {
  const script = `"$0" "$1" validate "$2"; rc=$?; times >&2; exit $rc`;
  return new Promise((done) => {
    execFile("bash", ["-c", script, process.execPath, cli, file],
      { cwd: dir, timeout: KILL_AFTER_MS, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        const failure = error as (NodeJS.ErrnoException & { code?: number | string; signal?: string }) | null;
        const lines = stderr.trimEnd().split("\n");
        const children = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines.at(-1) ?? "");
        const cpuMs = children ? (Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4])) * 1000 : NaN;
        done({
          code: failure ? (typeof failure.code === "number" ? failure.code : null) : 0,
          signal: failure?.signal ?? null,
          out: stdout + lines.slice(0, children ? -2 : undefined).join("\n"),
          cpuMs,
        });
      });
  });
}

async function check(c: HostileCase, index: number): Promise<void> {
  const file = `case-${String(index).padStart(2, "0")}.yaml`;
  const content = c.content();
  await writeFile(join(dir, file), content);
  const cpuMs = c.cpuMs ?? DEFAULT_CPU_MS;
  const run = await slot(() => validate(file));

  expect(run.signal, `killed after ${KILL_AFTER_MS} ms`).toBeNull();
  expect([1, 2]).toContain(run.code);
  expect(run.cpuMs, "CPU time of the CLI, ms").toBeLessThan(cpuMs);
  expect(run.out).not.toMatch(/^\s+at /m);
  for (const text of c.absent ?? []) expect(run.out).not.toContain(text);

  // Every line but the summary is `file:line:column rule message`.
  const lines = run.out.trimEnd().split("\n");
  expect(lines.at(-1)).toMatch(/^\d+ errors?, \d+ warnings? in 1 file$/);
  const reported = lines.slice(0, -1).map((line) => {
    const match = /^(case-\d+\.yaml):(\d+):(\d+) ([a-z][a-z-]*) \S/.exec(line);
    expect(match, line).not.toBeNull();
    return { file: match![1], line: Number(match![2]), rule: match![4]! };
  });
  expect(reported.every((r) => r.file === file)).toBe(true);
  const text = typeof content === "string" ? content : content.toString("utf8");
  const line = typeof c.line === "function" ? c.line(text) : c.line;
  const expected = reported.some((r) => r.line === line && c.rules.includes(r.rule))
    || (c.orRefusedAt !== undefined && reported.some((r) => r.line === c.orRefusedAt!.line && c.orRefusedAt!.rules.includes(r.rule)));
  expect(expected, `expected ${c.rules.join(" or ")} at line ${line}; got:\n${run.out}`).toBe(true);
}

describe("tenancy validate on hostile input", () => {
  it("has at least 50 distinct cases", () => {
    expect(HOSTILE_CASES.length + bigCases().length).toBeGreaterThanOrEqual(50);
    expect(new Set(HOSTILE_CASES.map((c) => c.name)).size).toBe(HOSTILE_CASES.length);
  });

  describe.concurrent("refuses each with exit 1 or 2, file:line and rule, no stack trace, no secret", () => {
    for (const [i, c] of HOSTILE_CASES.entries()) it(c.name, () => check(c, i), 3 * KILL_AFTER_MS);
  });

  describe("20 MB files", () => {
    for (const [i, c] of bigCases().entries()) it(c.name, () => check(c, 900 + i), 2 * KILL_AFTER_MS);
  });
});
