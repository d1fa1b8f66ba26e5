import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";

const root = join(import.meta.dirname, "../..");

async function run(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const sink = (write: (s: string) => void) => new Writable({ write(chunk, _enc, done) { write(String(chunk)); done(); } });
  const code = await main(argv, { cwd: root, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}

describe("tenancy validate", () => {
  it("accepts both example stacks with exit 0", async () => {
    const result = await run("validate", "stacks/dev/tenancy.yaml", "stacks/agency");
    expect(result).toMatchObject({ code: 0, stdout: "2 files valid\n" });
  });

  it("reports five different mistakes in one run, as file:line:col rule message", async () => {
    const result = await run("validate", "test/fixtures/five-mistakes.yaml");
    expect(result.code).toBe(1);
    expect(result.stdout).toMatchSnapshot();
    const rules = new Set(result.stdout.trim().split("\n").slice(0, -1).map((line) => line.split(" ")[1]));
    expect(rules.size).toBeGreaterThanOrEqual(5);
  });

  it("prints the JSON report with every field", async () => {
    const result = await run("validate", "--format", "json", "test/fixtures/rules/member-in-directory.fires.yaml");
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      violations: [{
        rule: "member-in-directory",
        severity: "error",
        message: 'member "zoe@elsewhere.test" of workspace "emea" must be listed in organization.people first',
        path: "workspaces[0].members[1].email",
        file: "test/fixtures/rules/member-in-directory.fires.yaml",
        line: 17,
        column: 18,
      }],
    });
  });

  it("exits 2 on an unreadable file and on bad usage, checking nothing", async () => {
    const missing = await run("validate", "stacks/dev/tenancy.yaml", "no/such.yaml");
    expect(missing).toMatchObject({ code: 2, stdout: "" });
    expect(missing.stderr).toContain("cannot read no/such.yaml: ENOENT");
    expect((await run("validate", "--format", "xml", "stacks/dev")).code).toBe(2);
    expect((await run("validate")).code).toBe(2);
    expect((await run("frobnicate")).code).toBe(2);
  });

  it("works as the installed `tenancy` bin", async () => {
    const bin = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).bin.tenancy as string;
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, bin), "validate", "stacks/dev"], { cwd: root });
    expect(stdout).toBe("1 file valid\n");
    const failed = await promisify(execFile)(process.execPath, [join(root, bin), "validate", "test/fixtures/five-mistakes.yaml"], { cwd: root })
      .then(() => 0, (error: { code: number }) => error.code);
    expect(failed).toBe(1);
  });
});
