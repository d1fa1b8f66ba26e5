// The audit's report features against the dev stack applied by the real engine: the evidence a
// login holding tenancy_auditor records (the server's system identifier, its roles, a digest that
// verifies), the exceptions file and --fail-on deciding the exit code, and the HTML and SARIF of a
// real tampering (the SARIF through the SARIF Multitool's GitHub rules).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditResult } from "../../audit/audit.ts";
import { verifyResultDigest } from "../../audit/evidence.ts";
import { main } from "../../cli/main.ts";
import { AUDITOR_ROLE } from "../../components/naming.ts";
import { createHarness, root, type Harness } from "./harness.ts";

const dev = readFileSync(join(root, "stacks/dev/tenancy.yaml"), "utf8");
const GRANT = "GRANT USAGE ON SCHEMA acme__emea_support TO acme__us_sales__app";
const UNGRANT = "REVOKE USAGE ON SCHEMA acme__emea_support FROM acme__us_sales__app";

let h: Harness;
let su: pg.Client;
const dir = mkdtempSync(join(tmpdir(), "tenancy-audit-report-"));

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const sink = (write: (s: string) => void) => new Writable({ write(chunk, _enc, done) { write(String(chunk)); done(); } });
  const saved = process.env.PGPASSWORD;
  process.env.PGPASSWORD = "audit-report-pw";
  try {
    const code = await main(["audit", "--declaration", h.declaration, "--database-url", `postgres://audit_report@${h.server.host}:${h.server.port}/${h.server.database}`, ...argv],
      { cwd: root, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
    return { code, stdout, stderr };
  } finally {
    if (saved === undefined) delete process.env.PGPASSWORD;
    else process.env.PGPASSWORD = saved;
  }
}

const exceptions = (expires: string) => {
  const file = join(dir, `exceptions-${expires}.yaml`);
  writeFileSync(file, `exceptions:\n  - rule: grant-crosses-boundary\n    object: 'schema "acme__emea_support"'\n    reason: migration job\n    who: ana@acme.test\n    expires: ${expires}\n`);
  return file;
};

beforeAll(async () => {
  h = await createHarness("audit-report", dev);
  await h.stack.up();
  const superuser = JSON.parse(await readFile(join(dirname(h.declaration), ".tenancy", "postgres", "superuser.json"), "utf8")) as { user: string; password: string };
  su = new pg.Client({ host: h.server.host, port: h.server.port, user: superuser.user, password: superuser.password, database: h.server.database });
  await su.connect();
  await su.query(`CREATE ROLE audit_report LOGIN PASSWORD 'audit-report-pw' IN ROLE ${AUDITOR_ROLE}`);
});

afterAll(async () => {
  await su?.end();
  await h?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe("audit report features against a real PostgreSQL", () => {
  it("records the server, the roles and the declaration, with a digest that verifies", async () => {
    const r = await cli("--format", "json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as AuditResult;
    const e = result.evidence!;
    const [server] = (await su.query(`SELECT c.system_identifier::text AS id, current_setting('server_version') AS version,
      has_function_privilege('audit_report', 'pg_catalog.pg_control_system()', 'EXECUTE') AS may FROM pg_control_system() c`)).rows as { id: string; version: string; may: boolean }[];
    expect(e.server).toEqual({ systemIdentifier: server!.may ? server!.id : null, version: server!.version });
    expect(e.auditor).toEqual({ currentUser: "audit_report", sessionUser: "audit_report" });
    expect(e.declaration.sha256).toBe(createHash("sha256").update(readFileSync(h.declaration)).digest("hex"));
    expect(e.at).toBe(result.snapshotAt);
    expect(verifyResultDigest(result)).toBe(true);
  });

  it("an exception holds a planted grant until its expiry; --fail-on error ignores what is not a boundary", async () => {
    await su.query(GRANT);
    try {
      expect((await cli("--format", "json")).code).toBe(1);
      const held = await cli("--format", "json", "--exceptions", exceptions("2999-12-31"));
      expect(held.code).toBe(0);
      const found = (JSON.parse(held.stdout) as AuditResult).findings.find((f) => f.id === "grant-crosses-boundary")!;
      expect(found.excepted).toMatchObject({ who: "ana@acme.test", expires: "2999-12-31" });
      expect(found.remediation).toBe(`REVOKE USAGE ON SCHEMA "acme__emea_support" FROM "acme__us_sales__app";`);
      const expired = await cli("--format", "json", "--exceptions", exceptions("2020-01-01"));
      expect(expired.code).toBe(1);
      expect((JSON.parse(expired.stdout) as AuditResult).findings.map((f) => f.id)).toEqual(expect.arrayContaining(["grant-crosses-boundary", "exception-expired"]));
      // The remediation, run as the admin, makes the audit clean.
      await su.query(found.remediation!);
      expect((await cli("--format", "json")).code).toBe(0);
    } finally {
      await su.query(UNGRANT);
    }
    await su.query("INSERT INTO tenancy_control.memberships (organization_slug, workspace_slug, email, role) VALUES ('acme', 'internal', 'ben@acme.test', 'viewer')");
    try {
      expect((await cli("--format", "json")).code).toBe(1);
      expect((await cli("--format", "json", "--fail-on", "error")).code).toBe(0);
    } finally {
      await su.query("DELETE FROM tenancy_control.memberships WHERE organization_slug = 'acme' AND workspace_slug = 'internal' AND email = 'ben@acme.test'");
    }
  });

  it("--also writes the same snapshot in other formats (one audit, not one per format); a bad --also audits nothing", async () => {
    await su.query(GRANT);
    try {
      const md = join(dir, "also.md");
      const sarif = join(dir, "also.sarif");
      const r = await cli("--format", "json", "--also", `markdown=${md}`, `sarif=${sarif}`);
      expect(r.code).toBe(1);
      const result = JSON.parse(r.stdout) as AuditResult;
      // The markdown's evidence line carries the JSON's snapshot time: the same read, not a second one.
      expect(readFileSync(md, "utf8")).toContain(`evidence: ${result.evidence!.at} `);
      const runs = (JSON.parse(readFileSync(sarif, "utf8")) as { runs: { results: { ruleId: string }[] }[] }).runs;
      expect(runs[0]!.results.map((x) => x.ruleId).sort()).toEqual(result.findings.map((f) => f.id).sort());
      expect(runs[0]!.results.map((x) => x.ruleId)).toContain("grant-crosses-boundary");
    } finally {
      await su.query(UNGRANT);
    }
    const bad = await cli("--format", "json", "--also", "pdf=x.pdf");
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/--also pdf=x\.pdf: expected <format>=<file> with a format of text, markdown, json, sarif, html/);
  });

  it("draws the planted grant red in the HTML, and its SARIF passes the Multitool's GitHub rules", { timeout: 300_000 }, async () => {
    await su.query(GRANT);
    try {
      const html = await cli("--format", "html");
      expect(html.code).toBe(1);
      const row = /<tr class=""><th scope="row">emea-support[^]*?<\/tr>/.exec(html.stdout)![0];
      expect(row).toContain(`class="cell undeclared" title="acme__us_sales__app: USAGE (grant-crosses-boundary)"`);
      const sarif = await cli("--format", "sarif");
      expect(sarif.code).toBe(1);
      const input = join(dir, "real.sarif");
      const output = join(dir, "real.validation.sarif");
      writeFileSync(input, sarif.stdout);
      const multitool = createRequire(import.meta.url)("@microsoft/sarif-multitool") as string;
      await promisify(execFile)(multitool, ["validate", "--rule-kind", "Sarif;Gh;Ghas", "--output", output, input], { timeout: 120_000 });
      const results = (JSON.parse(readFileSync(output, "utf8")) as { runs: { results?: { level?: string; ruleId: string }[] }[] }).runs[0]!.results ?? [];
      expect(results.filter((x) => x.level === "error" || x.level === "warning" || x.level === undefined)).toEqual([]);
      expect(JSON.stringify(JSON.parse(sarif.stdout).runs[0].results.map((x: { locations: unknown }) => x.locations))).not.toContain(dirname(h.declaration));
    } finally {
      await su.query(UNGRANT);
    }
  });
});
