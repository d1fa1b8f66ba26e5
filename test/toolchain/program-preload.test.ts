// The stack program's preload (scripts/toolchain/program-preload.cjs), in a child process started
// the way Pulumi.yaml starts the program: tsx, then the preload.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const fixture = join(import.meta.dirname, "program-preload.fixture.ts");

interface Seen { file?: string; line?: number; debugWrapped: string; errorStack: string[]; leakReport: string[]; tracked: boolean; stackTraceLimit: number }

function run(env: Record<string, string> = {}): Seen {
  // cmd/run is what loads the SDK's log module in a real program; here the fixture does.
  const out = execFileSync(process.execPath, ["--import", "tsx", "--require", "./scripts/toolchain/program-preload.cjs", fixture], {
    cwd: root, env: { ...process.env, ...env }, encoding: "utf8",
  });
  return JSON.parse(out.trim().split("\n").pop()!);
}

describe("the stack program's preload", () => {
  // Each child loads @pulumi/pulumi (seconds on a busy machine): three runs, shared.
  let on: Seen, debugLogs: Seen, off: Seen, leaks: Seen;
  beforeAll(() => {
    on = run();
    leaks = run({ PULUMI_DEBUG_PROMISE_LEAKS: "1" });
    debugLogs = run({ TENANCY_PROGRAM_DEBUG_LOGS: "1" });
    off = run({ TENANCY_PROGRAM_PRELOAD: "off" });
  }, 180_000);

  it("gives the SDK's resource capture the real TypeScript line, as a path", () => {
    expect(on.file).toBe(fixture);
    expect(on.line).toBe(8);
  });

  it("wraps the SDK's debug log, and TENANCY_PROGRAM_DEBUG_LOGS=1 leaves it alone", () => {
    expect(on.debugWrapped).not.toBe("debug");
    expect(debugLogs.debugWrapped).toBe("debug");
    expect(debugLogs.line).toBe(8);
  });

  it("leaves the SDK as it is with TENANCY_PROGRAM_PRELOAD=off", () => {
    expect(off.debugWrapped).toBe("debug");
    expect(off.line).not.toBe(8); // source-map-support cannot read the map tsx registers
  });

  it("captures no stack for an output unless PULUMI_DEBUG_PROMISE_LEAKS asks the report to print it, and still tracks the promise", () => {
    // Without the variable the SDK's report prints no stack (it tells the reader to set it).
    expect(on.leakReport[1]).toBe("STACK_TRACE:");
    expect(on.leakReport.slice(2).join("\n")).toMatch(/^Error:? ?$/); // no frame at all
    expect(on.tracked).toBe(true);
    expect(on.stackTraceLimit).toBe(off.stackTraceLimit); // restored after each capture
    expect(off.leakReport.length).toBeGreaterThan(3); // the SDK alone captures every frame
  });

  it("with PULUMI_DEBUG_PROMISE_LEAKS, formats an output's capture when the report reads it, at the real TypeScript line", () => {
    expect(leaks.leakReport[0]).toMatch(/^CONTEXT\(\d+\): a leaked output$/);
    expect(leaks.leakReport[1]).toBe("STACK_TRACE:");
    expect(leaks.leakReport[2]).toBe("Error");
    expect(leaks.leakReport.some((l) => l.includes(`${fixture}:15:`))).toBe(true);
    expect(leaks.tracked).toBe(true);
    expect(off.leakReport.some((l) => l.includes(`${fixture}:15:`))).toBe(false);
  });

  it("still formats an error a person reads with the message first", () => {
    expect(on.errorStack[0]).toBe("Error: for a person");
    expect(on.errorStack[1]).toContain("program-preload.fixture.ts");
  });
});
