// `tenancy audit` at the edge without a server: usage errors and unreachable databases are one
// line on stderr and exit 2, and a password never appears. (Exit 0 and 1 against a real
// PostgreSQL are in test/e2e/audit-tamper.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { freePort } from "../../cli/local/net.ts";
import { main } from "../../cli/main.ts";

const root = join(import.meta.dirname, "../..");

async function run(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const sink = (write: (s: string) => void) => new Writable({ write(chunk, _enc, done) { write(String(chunk)); done(); } });
  const code = await main(argv, { cwd: root, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
  return { code, stdout, stderr };
}

describe("tenancy audit", () => {
  it("needs exactly one of --database-url and --stack", async () => {
    expect(await run("audit", "--declaration", "stacks/dev")).toEqual({ code: 2, stdout: "", stderr: "tenancy: give exactly one of --database-url and --stack\n" });
  });

  it("refuses an invalid declaration before connecting, in one line", async () => {
    const r = await run("audit", "--declaration", "test/fixtures/five-mistakes.yaml", "--database-url", "postgres://nobody@127.0.0.1:1/none");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tenancy: test\/fixtures\/five-mistakes\.yaml is not a valid declaration \(\d+ violations: run `tenancy validate test\/fixtures\/five-mistakes\.yaml`\); nothing was audited\n$/);
  });

  it("reports an unreachable database in one line, without the URL's password", async () => {
    const port = await freePort();
    const r = await run("audit", "--declaration", "stacks/dev", "--database-url", `postgres://auditor:hunter2-not-here@127.0.0.1:${port}/tenancy`);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^tenancy: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/tenancy as auditor: .*ECONNREFUSED.*\\n$`));
    expect(r.stderr).not.toContain("hunter2");
  });

  it("reports a missing declaration file with exit 2", async () => {
    const r = await run("audit", "--declaration", "stacks/nope", "--database-url", "postgres://x@127.0.0.1:1/x");
    expect(r).toMatchObject({ code: 2, stderr: "tenancy: cannot read stacks/nope: ENOENT\n" });
  });

  it("offers the five formats only", async () => {
    const r = await run("audit", "--declaration", "stacks/dev", "--database-url", "postgres://x@127.0.0.1:1/x", "--format", "pdf");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are text, markdown, json, sarif, html/);
  });

  it("takes --fail-on error or warning only", async () => {
    const r = await run("audit", "--declaration", "stacks/dev", "--database-url", "postgres://x@127.0.0.1:1/x", "--fail-on", "note");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are error, warning/);
  });

  it("refuses a malformed exceptions file before connecting, naming file, line and key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tenancy-exceptions-"));
    try {
      const file = join(dir, "exceptions.yaml");
      writeFileSync(file, "exceptions:\n  - rule: grant-crosses-boundary\n    object: x\n    reason: r\n    who: w\n    expires: someday\n    extra: 1\n");
      const r = await run("audit", "--declaration", "stacks/dev", "--database-url", "postgres://x@127.0.0.1:1/x", "--exceptions", file);
      expect(r).toEqual({ code: 2, stdout: "", stderr: `tenancy: ${file}:7:5: exceptions[0].extra: unknown key "extra"; an entry has rule, object, reason, who, expires (and 1 more problem); nothing was audited\n` });
      const missing = await run("audit", "--declaration", "stacks/dev", "--database-url", "postgres://x@127.0.0.1:1/x", "--exceptions", join(dir, "nope.yaml"));
      expect(missing).toMatchObject({ code: 2, stderr: `tenancy: cannot read exceptions file ${join(dir, "nope.yaml")}: ENOENT\n` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
