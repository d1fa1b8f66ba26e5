import { cpSync, existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";

async function run(cwd: string, ...argv: string[]) {
  let stderr = "";
  const sink = (write: (s: string) => void) => new Writable({ write(chunk, _enc, done) { write(String(chunk)); done(); } });
  const code = await main(argv, { cwd, stdout: sink(() => {}), stderr: sink((s) => (stderr += s)) });
  return { code, stderr };
}

describe("tenancy demo", () => {
  it("refuses an invalid declaration before starting anything", async () => {
    const project = mkdtempSync(join(tmpdir(), "tenancy-demo-"));
    mkdirSync(join(project, "stacks", "bad"), { recursive: true });
    cpSync(join(import.meta.dirname, "../fixtures/five-mistakes.yaml"), join(project, "stacks", "bad", "tenancy.yaml"));
    const result = await run(project, "demo", "--stack", "bad");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the bad declaration is not valid; nothing was changed");
    expect(result.stderr).toContain("no-nested-workspaces");
    expect(existsSync(join(project, ".tenancy"))).toBe(false);
  });

  it("exits 2 for a stack that does not exist", async () => {
    const result = await run(mkdtempSync(join(tmpdir(), "tenancy-demo-")), "demo", "--stack", "nope");
    expect(result).toEqual({ code: 2, stderr: 'tenancy: no stack "nope": stacks/nope/tenancy.yaml does not exist\n' });
  });
});

describe("decommissionAll", () => {
  it("marks every workspace of a declaration decommissioned and keeps it valid", async () => {
    const { decommissionAll } = await import("../../cli/demo.ts");
    const { checkDeclaration } = await import("../../policies/declaration.ts");
    const { readFileSync } = await import("node:fs");
    const text = decommissionAll(readFileSync(join(import.meta.dirname, "../../stacks/dev/tenancy.yaml"), "utf8"));
    const report = checkDeclaration(text, "teardown.yaml");
    expect(report.violations).toEqual([]);
    expect(report.model!.workspaces.map((w) => w.decommissioned)).toEqual([true, true, true]);
  });
});
