// Availability and integrity of the admin's sessions against one workspace's app role (issue
// #16): the admin's serialisation keys (rows no workspace role can lock; one held by another admin
// session fails in one line naming it), advisory keys held by an app session; the app role opening every
// connection it can; the app role changing its own password. Real engine, real PostgreSQL; each
// case is planted first, then the toolkit runs, then the test reads the catalogs itself.
import { dirname } from "node:path";
import type pg from "pg";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { audit } from "../../cli/audit.ts";
import { CONTROL_SCHEMA, workspaceNames } from "../../components/naming.ts";
import { migrationInputs } from "../../components/control-plane/migrations.ts";
import { inTransaction } from "../../provider/postgres/client.ts";
import { dropBlockers } from "../../provider/postgres/decommission-sql.ts";
import { LOCK_SCHEMA, LOCK_TABLE } from "../../provider/postgres/locks.ts";
import { controlPlaneKind } from "../../provider/resources/control-plane.ts";
import { credentialsKind } from "../../provider/resources/credentials.ts";
import { appPasswords, serverOf, type Server } from "./attack-harness.ts";
import { createHarness, root, type Harness } from "./harness.ts";

const LOCK_TIMEOUT_MS = 3000;

/** Two workspaces: emea takes the organization's default limit, apac its own. */
function declaration(limits: { org?: number; emea?: number; apac?: number } = {}): string {
  const ws = (slug: string, limit: number | undefined) => ({
    slug, name: `Workspace ${slug}`, members: [{ email: "ana@acme.test", role: "admin" }], ...(limit === undefined ? {} : { connectionLimit: limit }),
  });
  return stringify({
    version: 1,
    organization: {
      slug: "acme", name: "Acme", billing: { mode: "rollup", plan: "agency", creditPool: { monthlyAllowance: 1000 } },
      roles: { admin: ["workspaces.manage", "members.manage"] }, people: [{ email: "ana@acme.test", orgRole: "admin" }],
      ...(limits.org === undefined ? {} : { connectionLimit: limits.org }),
    },
    workspaces: [ws("emea", limits.emea), ws("apac", limits.apac)],
  });
}

let h: Harness, s: Server, passwords: Record<string, string>;
const limitsOf = async () => Object.fromEntries((await s.su.query("SELECT rolname, rolconnlimit FROM pg_roles WHERE rolname LIKE 'acme\\_\\_%' ORDER BY 1")).rows.map((r) => [r.rolname, r.rolconnlimit]));
const app = (ws: string, password = passwords[ws]!) => s.login(`acme__${ws}__app`, password);
/** The admin's connection to the stack's database, as the provider opens it. */
const admin = () => ({ host: h.server.host, port: h.server.port, user: h.server.user, password: h.server.password, database: h.server.database });
/** Runs `up`; "ok", or the error lines that name the failure. */
async function up(): Promise<{ outcome: string; ms: number }> {
  const t0 = Date.now();
  const outcome = await h.stack.up().then(() => "ok", (e: Error) => e.message);
  return { outcome, ms: Date.now() - t0 };
}
async function auditFindings(): Promise<string[]> {
  const before = process.env.PULUMI_BACKEND_URL;
  process.env.PULUMI_BACKEND_URL = `file://${dirname(h.declaration)}`;
  try {
    const result = await audit({ stack: h.stack.name }, root);
    return result.findings.map((f) => `${f.class} ${f.id} ${f.workspace ?? ""}`);
  } finally {
    if (before === undefined) delete process.env.PULUMI_BACKEND_URL;
    else process.env.PULUMI_BACKEND_URL = before;
  }
}

beforeAll(async () => {
  // The engine passes its environment to the provider plugin.
  process.env.TENANCY_PG_LOCK_TIMEOUT_MS = String(LOCK_TIMEOUT_MS);
  h = await createHarness("sessions", declaration({ org: 12, apac: 5 }));
  s = await serverOf(h);
  expect((await up()).outcome).toBe("ok");
  passwords = await appPasswords(h);
});
afterAll(async () => {
  delete process.env.TENANCY_PG_LOCK_TIMEOUT_MS;
  await s?.close();
  await h?.dispose();
});

describe("a workspace's app role against the admin's sessions", () => {
  it("gives each app role the declared connection limit (workspace, else organization), and 0 to the roles that cannot log in", async () => {
    expect(await limitsOf()).toEqual({
      acme__apac__app: 5, acme__apac__owner: 0, acme__apac__ro: 0,
      acme__emea__app: 12, acme__emea__owner: 0, acme__emea__ro: 0,
    });
  });

  it("refuses app connections past the limit (95 tried), while the admin still connects and applies", async () => {
    const tried = await Promise.allSettled(Array.from({ length: 95 }, () => app("emea")));
    const opened = tried.filter((t) => t.status === "fulfilled").map((t) => (t as PromiseFulfilledResult<pg.Client>).value);
    const codes = new Set(tried.filter((t) => t.status === "rejected").map((t) => (t as PromiseRejectedResult).reason.code));
    try {
      expect(opened).toHaveLength(12);
      expect([...codes]).toEqual(["53300"]);
      // The admin gets in and applies a change; the login probe meets the full limit (53300),
      // which says nothing about the password: no password update is planned for it.
      await h.writeDeclaration(declaration({ org: 12, apac: 6 }));
      expect(await h.plannedChanges()).toEqual(["update tenancy:postgres:WorkspaceBoundary acme-apac-boundary"]);
      expect((await up()).outcome).toBe("ok");
      expect((await limitsOf()).acme__apac__app).toBe(6);
    } finally {
      await Promise.all(opened.map((c) => c.end()));
    }
  });

  it("jams nothing when an app session holds the advisory keys the toolkit used to take (its keys are rows no workspace role can lock)", async () => {
    const holder = await app("apac");
    try {
      for (const key of ["tenancy:database:tenancy", "tenancy:boundary:acme__emea", "tenancy:credentials:acme__emea", "tenancy:control-plane-migrations"]) {
        await holder.query("SELECT pg_advisory_lock(hashtext($1))", [key]);
      }
      const before = (await limitsOf()).acme__emea__app;
      await h.writeDeclaration(declaration({ org: 12, apac: 6, emea: before + 1 }));
      const run = await up();
      expect(run.outcome).toBe("ok");
      expect((await limitsOf()).acme__emea__app).toBe(before + 1);
    } finally {
      await holder.end();
    }
  });

  it("gives a workspace role no way to lock the admin's keys: no privilege on their table in any lock mode, no lock taken", async () => {
    const attacker = await app("apac");
    try {
      const pid = (await attacker.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
      await attacker.query("BEGIN");
      const codes: string[] = [];
      for (const statement of [
        `SELECT key FROM ${LOCK_SCHEMA}.${LOCK_TABLE} FOR UPDATE`, `SELECT key FROM ${LOCK_SCHEMA}.${LOCK_TABLE} FOR NO KEY UPDATE`,
        `SELECT key FROM ${LOCK_SCHEMA}.${LOCK_TABLE} FOR SHARE`, `SELECT key FROM ${LOCK_SCHEMA}.${LOCK_TABLE} FOR KEY SHARE`,
        `SELECT key FROM ${LOCK_SCHEMA}.${LOCK_TABLE}`, `LOCK TABLE ${LOCK_SCHEMA}.${LOCK_TABLE} IN ACCESS SHARE MODE`,
        `INSERT INTO ${LOCK_SCHEMA}.${LOCK_TABLE} VALUES ('tenancy:database:tenancy')`,
      ]) {
        await attacker.query("SAVEPOINT s");
        codes.push(await attacker.query(statement).then(() => "ok", (e: { code?: string }) => e.code ?? "error"));
        // Still inside the transaction: whatever a refused statement locked would show now.
        const held = await s.su.query(`SELECT count(*)::int AS n FROM pg_locks WHERE pid = $1 AND (relation = to_regclass($2) OR locktype IN ('tuple', 'advisory'))`, [pid, `${LOCK_SCHEMA}.${LOCK_TABLE}`]);
        expect(held.rows[0].n).toBe(0);
        await attacker.query("ROLLBACK TO SAVEPOINT s");
      }
      // 42501: no USAGE on the schema, refused before the name is even looked up (so before any lock).
      expect(codes).toEqual(Array(7).fill("42501"));
      await attacker.query("ROLLBACK");
    } finally {
      await attacker.end();
    }
  });

  for (const key of ["tenancy:database:tenancy", "tenancy:boundary:acme__emea"]) {
    it(`fails within lock_timeout in one line naming the holder (role, pid, application) when another admin session holds ${key}, applies nothing, and succeeds once it lets go`, async () => {
      const holder = await s.login(h.server.user, h.server.password);
      await holder.query("SET application_name = 'held-by-the-test'");
      await holder.query("BEGIN");
      expect((await holder.query(`SELECT key FROM ${LOCK_SCHEMA}.${LOCK_TABLE} WHERE key = $1 FOR UPDATE`, [key])).rowCount).toBe(1);
      const before = (await limitsOf()).acme__emea__app;
      await h.writeDeclaration(declaration({ org: 12, apac: 6, emea: before + 2 }));
      const failed = await up();
      expect(failed.outcome).toContain(`gave up waiting 3s (lock_timeout, TENANCY_PG_LOCK_TIMEOUT_MS) for the admin's lock "${key}", held by role "${h.server.user}" (pid `);
      expect(failed.outcome).toContain(`application "held-by-the-test")`);
      // The engine's own start and stop take 10-40 s on a loaded machine; without a bound this never returned.
      expect(failed.ms).toBeLessThan(120_000);
      console.log(`held ${key}: the apply failed after ${failed.ms} ms`);
      expect((await limitsOf()).acme__emea__app).toBe(before);
      await holder.end();
      expect((await up()).outcome).toBe("ok");
      expect((await limitsOf()).acme__emea__app).toBe(before + 2);
    });
  }

  it("bounds the control-plane migrations and the credentials locks the same way (the provider's kinds called directly)", async () => {
    const { server } = h;
    const masterKey = (await h.stack.getConfig("tenancy:credentialsMasterKey")).value;
    const ctx = { connection: admin(), masterKey };
    const inputs = { schema: CONTROL_SCHEMA, database: server.database, migrations: migrationInputs() };
    const names = workspaceNames("acme", "emea");
    const credentials = { organization: "acme", workspace: "emea", names: { schema: names.schema, owner: names.owner, app: names.app }, keyGeneration: "1", integrations: {} };
    const cases: [string, () => Promise<unknown>][] = [
      ["tenancy:control-plane-migrations", () => controlPlaneKind.update(CONTROL_SCHEMA, { ...inputs, auditor: "ok" }, inputs, ctx)],
      ["tenancy:credentials:acme__emea", () => credentialsKind.update("acme/emea", undefined as never, credentials, ctx)],
    ];
    for (const [key, run] of cases) {
      await run(); // the key's row exists from here on
      const holder = await s.login(server.user, server.password);
      await holder.query("BEGIN");
      expect((await holder.query(`SELECT key FROM ${LOCK_SCHEMA}.${LOCK_TABLE} WHERE key = $1 FOR UPDATE`, [key])).rowCount).toBe(1);
      // The advisory key of the same name, held by the app, is no longer ours: it changes nothing.
      const app_ = await app("apac");
      await app_.query("SELECT pg_advisory_lock(hashtext($1))", [key]);
      const t0 = Date.now();
      await expect(run()).rejects.toThrow(`for the admin's lock "${key}", held by role "${server.user}"`);
      expect(Date.now() - t0).toBeLessThan(LOCK_TIMEOUT_MS + 5000);
      await holder.end();
      await run();
      await app_.end();
    }
  });

  it("does not starve the pool: six deletion rehearsals of a workspace whose app holds its schema each fail in one line naming the holder, none on connecting", async () => {
    const connection = admin();
    const holder = await app("emea");
    await holder.query("BEGIN");
    await holder.query("CREATE TABLE acme__emea.held_by_the_app (x int)");
    try {
      const t0 = Date.now();
      // POOL_SIZE 4: two of the six wait for a connection while four wait on the lock.
      const results = await Promise.all(Array.from({ length: 6 }, () => dropBlockers(connection, workspaceNames("acme", "emea"))));
      const ms = Date.now() - t0;
      for (const blockers of results) {
        expect(blockers.join(" | ")).toContain('which deleting the workspace locks, held by role "acme__emea__app" (pid ');
        expect(blockers.join(" | ")).not.toMatch(/cannot connect|timeout exceeded/);
      }
      // One lock_timeout, then the rest fail at once on the lock found held (not one lock_timeout each).
      expect(results.filter((b) => b.join(" ").includes("gave up at once")).length).toBeGreaterThanOrEqual(2);
      expect(ms).toBeLessThan(LOCK_TIMEOUT_MS + 5000);
    } finally {
      await holder.end();
    }
    expect(await dropBlockers(connection, workspaceNames("acme", "emea"))).toEqual([]);
  });

  it("names the lock and its holder when any statement outwaits lock_timeout, and fails a second wait on it at once", async () => {
    const connection = admin();
    const holder = await app("emea");
    await holder.query("BEGIN");
    await holder.query("LOCK TABLE acme__emea.integration_credentials IN ACCESS SHARE MODE");
    const pid = (await holder.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
    const exclusive = () => inTransaction(connection, (sql) => sql.query("LOCK TABLE acme__emea.integration_credentials IN ACCESS EXCLUSIVE MODE"));
    try {
      let t0 = Date.now();
      await expect(exclusive()).rejects.toThrow(`canceling statement due to lock timeout after ${LOCK_TIMEOUT_MS} ms (lock_timeout, TENANCY_PG_LOCK_TIMEOUT_MS): waiting for a lock on acme__emea.integration_credentials (AccessExclusiveLock) held by role "acme__emea__app" (pid ${pid}); nothing was applied`);
      expect(Date.now() - t0).toBeLessThan(LOCK_TIMEOUT_MS + 3000);
      t0 = Date.now();
      await expect(exclusive()).rejects.toThrow(`held by role "acme__emea__app" (pid ${pid}), for an earlier change of this run; gave up at once`);
      expect(Date.now() - t0).toBeLessThan(LOCK_TIMEOUT_MS);
    } finally {
      await holder.end();
    }
    await exclusive();
  });

  it("sets the app password back when the app role changed its own, and the audit reports it first", async () => {
    const attacker = await app("emea");
    await attacker.query("ALTER ROLE current_user PASSWORD 'taken-over-by-the-app'");
    await attacker.end();
    await expect(app("emea")).rejects.toMatchObject({ code: "28P01" });

    expect(await auditFindings()).toContain("changed app-password-drift emea");
    expect(await h.plannedChanges()).toEqual(["update tenancy:postgres:WorkspaceBoundary acme-emea-boundary"]);
    // Shown as an update of the password (the detailed diff a plan reads), never the password.
    const changed: string[] = [];
    const preview = await h.stack.preview({
      diff: true,
      onEvent: (e) => { const m = e.resourcePreEvent?.metadata; if (m?.op === "update") changed.push(...Object.keys(m.detailedDiff ?? {})); },
    });
    expect(changed).toEqual(["appPassword"]);
    for (const secret of [passwords.emea!, "taken-over-by-the-app"]) expect(preview.stdout + preview.stderr).not.toContain(secret);

    expect((await up()).outcome).toBe("ok");
    // The derived password logs in again; the one the app role set does not.
    expect((await (await app("emea")).query("SELECT current_user AS u")).rows).toEqual([{ u: "acme__emea__app" }]);
    await expect(app("emea", "taken-over-by-the-app")).rejects.toMatchObject({ code: "28P01" });
    expect(await auditFindings()).not.toContain("changed app-password-drift emea");
    expect(await h.plannedChanges()).toEqual([]);
  });
});
