// Issue 11's acceptance test: the real engine applies the dev stack to an embedded PostgreSQL,
// `tenancy audit` finds it clean; each hand-made tampering, one at a time and all together, is
// reported with the right class and exit 1; `up --refresh` repairs what Pulumi manages; the
// orphan schema stays reported until it is dropped; then the audit is clean again.
//
// Deliberately nothing here names a resource type or count (the providers are being
// redesigned): only audit findings and catalogs are asserted.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../cli/main.ts";
import { AUDITOR_ROLE } from "../../components/naming.ts";
import { createHarness, root, type Harness } from "./harness.ts";

const dev = readFileSync(join(root, "stacks/dev/tenancy.yaml"), "utf8");

interface Outcome { code: number; deviations: string[]; stderr: string }

let h: Harness;
let su: pg.Client;

async function cli(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const sink = (write: (s: string) => void) => new Writable({ write(chunk, _enc, done) { write(String(chunk)); done(); } });
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const code = await main(argv, { cwd: root, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) });
    return { code, stdout, stderr };
  } finally {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}

/** `tenancy audit --format json` as `user` (password through PGPASSWORD, never the URL). */
async function audit(user = h.server.user, password = h.server.password): Promise<Outcome> {
  const url = `postgres://${user}@${h.server.host}:${h.server.port}/${h.server.database}`;
  const r = await cli(["audit", "--declaration", h.declaration, "--database-url", url, "--format", "json"], { PGPASSWORD: password });
  if (r.code === 2) return { code: 2, deviations: [], stderr: r.stderr };
  const json = JSON.parse(r.stdout) as { findings: { class: string; id: string; workspace?: string }[] };
  return { code: r.code, stderr: r.stderr, deviations: json.findings.filter((f) => f.class !== "info").map((f) => `${f.class} ${f.id} ${f.workspace ?? "-"}`).sort() };
}

const tamperings: Record<string, { apply: string; undo?: string; expect: string[] }> = {
  "grant one workspace's role USAGE on another's schema": {
    apply: "GRANT USAGE ON SCHEMA acme__emea_support TO acme__us_sales__app",
    undo: "REVOKE USAGE ON SCHEMA acme__emea_support FROM acme__us_sales__app",
    expect: ["boundary grant-crosses-boundary emea-support"],
  },
  "GRANT SELECT on a workspace table TO PUBLIC": {
    apply: "GRANT SELECT ON acme__internal.notes TO PUBLIC",
    undo: "REVOKE SELECT ON acme__internal.notes FROM PUBLIC",
    expect: ["boundary public-grant-in-workspace internal"],
  },
  "ALTER DEFAULT PRIVILEGES giving another workspace's role future tables": {
    apply: "ALTER DEFAULT PRIVILEGES FOR ROLE acme__internal__app IN SCHEMA acme__internal GRANT SELECT ON TABLES TO acme__us_sales__ro",
    undo: "ALTER DEFAULT PRIVILEGES FOR ROLE acme__internal__app IN SCHEMA acme__internal REVOKE SELECT ON TABLES FROM acme__us_sales__ro",
    expect: ["boundary default-privilege-crosses-boundary internal"],
  },
  "give an app role CREATEROLE": {
    apply: "ALTER ROLE acme__us_sales__app CREATEROLE",
    undo: "ALTER ROLE acme__us_sales__app NOCREATEROLE",
    expect: ["boundary role-dangerous-attribute us-sales"],
  },
  "insert a member row the declaration lacks": {
    apply: "INSERT INTO tenancy_control.memberships (organization_slug, workspace_slug, email, role) VALUES ('acme', 'internal', 'ben@acme.test', 'viewer')",
    undo: "DELETE FROM tenancy_control.memberships WHERE organization_slug = 'acme' AND workspace_slug = 'internal' AND email = 'ben@acme.test'",
    expect: ["unexpected member-unexpected internal"],
  },
  "change a member's role in the control plane": {
    apply: "UPDATE tenancy_control.memberships SET role = 'viewer' WHERE organization_slug = 'acme' AND workspace_slug = 'us-sales' AND email = 'ben@acme.test'",
    undo: "UPDATE tenancy_control.memberships SET role = 'admin' WHERE organization_slug = 'acme' AND workspace_slug = 'us-sales' AND email = 'ben@acme.test'",
    // us-sales then has no admin: the rule fails on the state as found too.
    expect: ["changed member-role-changed us-sales", "rule workspace-has-admin us-sales"],
  },
  "drop an app role": {
    apply: "REASSIGN OWNED BY acme__emea_support__app TO acme__emea_support__owner; DROP OWNED BY acme__emea_support__app; DROP ROLE acme__emea_support__app",
    // Undone by `up --refresh` (below): only Pulumi can recreate it with its password.
    expect: ["missing role-missing emea-support"],
  },
  "drop a workspace's sealed-credentials table": {
    apply: "DROP TABLE acme__emea_support.integration_credentials",
    // Undone by `up --refresh`: the boundary makes the table again and the credentials are resealed.
    expect: ["missing credentials-table-missing emea-support"],
  },
  "let the auditor role log in": {
    apply: `ALTER ROLE ${AUDITOR_ROLE} LOGIN`,
    // Undone by `up --refresh`: the control plane converges the auditor role.
    expect: ["changed role-login-changed -"],
  },
  "create an orphan schema named like a workspace": {
    apply: "CREATE SCHEMA acme__ghost",
    undo: "DROP SCHEMA acme__ghost",
    expect: ["unexpected schema-unexpected ghost"],
  },
};

beforeAll(async () => {
  h = await createHarness("audit", dev);
  await h.stack.up();
  const dir = dirname(h.declaration);
  const superuser = JSON.parse(await readFile(join(dir, ".tenancy", "postgres", "superuser.json"), "utf8")) as { user: string; password: string };
  su = new pg.Client({ host: h.server.host, port: h.server.port, user: superuser.user, password: superuser.password, database: h.server.database });
  await su.connect();
  // A table the application created, with rows: it must survive every repair below.
  await su.query("SET ROLE acme__internal__app; CREATE TABLE acme__internal.notes (id int PRIMARY KEY, body text); INSERT INTO acme__internal.notes VALUES (1, 'kept'), (2, 'kept too'); RESET ROLE");
});

afterAll(async () => {
  await su?.end();
  await h?.dispose();
});

describe("tenancy audit against the dev stack applied by the real engine", () => {
  it("is clean right after up (exit 0), through the stack's config and as the admin", async () => {
    const viaStack = await cli(["audit", "--stack", h.stack.name, "--verbose"], { PULUMI_BACKEND_URL: `file://${dirname(h.declaration)}` });
    expect(viaStack.stderr).toBe("");
    expect(viaStack.code).toBe(0);
    expect(viaStack.stdout).toMatch(/: clean/);
    expect(viaStack.stdout).toMatch(/read in one snapshot at .*: 11 queries/);
    expect(await audit()).toEqual({ code: 0, deviations: [], stderr: "" });
  });

  it("is clean as a login role holding the auditor role the provider made, which cannot read workspace data", async () => {
    const role = (await su.query("SELECT rolcanlogin, rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = $1", [AUDITOR_ROLE])).rows;
    expect(role).toEqual([{ rolcanlogin: false, rolsuper: false, rolcreaterole: false, rolbypassrls: false }]);
    // README, "The auditor role": what a platform engineer runs, as the toolkit's admin (CREATEROLE,
    // ADMIN OPTION on the role it made), to give a person or a pipeline the audit.
    const admin = new pg.Client({ host: h.server.host, port: h.server.port, user: h.server.user, password: h.server.password, database: h.server.database });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE audit_pipeline LOGIN PASSWORD 'audit-pipeline-pw' IN ROLE ${AUDITOR_ROLE}`);
    } finally {
      await admin.end();
    }
    expect(await audit("audit_pipeline", "audit-pipeline-pw")).toEqual({ code: 0, deviations: [], stderr: "" });
    const pipeline = new pg.Client({ host: h.server.host, port: h.server.port, user: "audit_pipeline", password: "audit-pipeline-pw", database: h.server.database });
    await pipeline.connect();
    try {
      await expect(pipeline.query("SELECT * FROM acme__internal.notes")).rejects.toThrow(/permission denied/);
      await expect(pipeline.query("SELECT * FROM acme__emea_support.integration_credentials")).rejects.toThrow(/permission denied/);
    } finally {
      await pipeline.end();
    }
  });

  for (const [name, t] of Object.entries(tamperings)) {
    it(`reports "${name}" alone with exit 1, and is clean once it is undone`, async () => {
      await su.query(t.apply);
      expect(await audit()).toEqual({ code: 1, deviations: [...t.expect].sort(), stderr: "" });
      if (t.undo) await su.query(t.undo);
      else await h.stack.up({ refresh: true });
      expect(await audit()).toEqual({ code: 0, deviations: [], stderr: "" });
    });
  }

  it("reports every tampering at once, each with its class", async () => {
    for (const t of Object.values(tamperings)) await su.query(t.apply);
    const all = Object.values(tamperings).flatMap((t) => t.expect).sort();
    expect(await audit()).toEqual({ code: 1, deviations: all, stderr: "" });
  });

  it("up --refresh runs, and the application's table and rows stay", async () => {
    const result = await h.stack.up({ refresh: true });
    expect(result.summary.result).toBe("succeeded");
    expect((await su.query("SELECT body FROM acme__internal.notes ORDER BY id")).rows).toEqual([{ body: "kept" }, { body: "kept too" }]);
  });

  // FAILS on the providers of 2026-12 (components/providers/*): refresh reads back only the
  // privileges each grant resource declares and only LOGIN of a role, so the extra USAGE grant,
  // PUBLIC's SELECT, the cross-workspace default privilege and CREATEROLE survive `up --refresh`
  // (the member row, the changed role and the dropped app role are repaired). The redesigned
  // per-workspace boundary resource is meant to own its whole ACL; this assertion is the target.
  it("after up --refresh only the unmanaged orphan schema is still reported", async () => {
    expect(await audit()).toEqual({ code: 1, deviations: ["unexpected schema-unexpected ghost"], stderr: "" });
  });

  it("is clean again once the orphan schema is dropped", async () => {
    await su.query("DROP SCHEMA acme__ghost");
    expect(await audit()).toEqual({ code: 0, deviations: [], stderr: "" });
  });
});
