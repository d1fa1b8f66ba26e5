// The audit's PostgreSQL reader against a real embedded PostgreSQL (no engine: the tenancy is
// applied with bench/audit-fixture.ts, i.e. the control-plane SQL and the grants' DDL).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditState } from "../../audit/audit.ts";
import { readPostgres } from "../../audit/read-postgres.ts";
import { applyDirect } from "../../bench/audit-fixture.ts";
import { generateDeclaration } from "../../bench/generate.ts";
import { freePort } from "../../cli/local/net.ts";
import { closeOtherDatabases, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { AUDITOR_ROLE } from "../../components/naming.ts";
import { devDeclaration, devLive } from "../audit/fixture.ts";
import { loadValidDeclaration } from "../../audit/audit.ts";

const root = join(import.meta.dirname, "../..");
let dir: string;
let port: number;
let server: LocalPostgres;
let admin: pg.Client;
const clients: pg.Client[] = [];

async function connect(user: string, password: string, database = "postgres"): Promise<pg.Client> {
  const c = new pg.Client({ host: server.host, port, user, password, database });
  await c.connect();
  clients.push(c);
  return c;
}

/** A client that records every statement it sends. */
function recording(client: pg.Client): { client: pg.Client; statements: string[] } {
  const statements: string[] = [];
  const proxy = new Proxy(client, {
    get(target, key) {
      if (key === "query") return (sql: string, params?: unknown[]) => { statements.push(sql); return target.query(sql, params); };
      return Reflect.get(target, key);
    },
  });
  return { client: proxy, statements };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tenancy-e2e-audit-reader-"));
  await chmod(dir, 0o755);
  port = await freePort();
  server = await ensureLocalPostgres({ root: dir, port });
  admin = await connect(server.user, server.password);
  // As the embedded default's setup does (the tenancy lives in postgres here; its control plane revokes PUBLIC there too).
  for (const statement of closeOtherDatabases()) await admin.query(statement);
  await applyDirect(admin, devDeclaration().model, "postgres");
  await admin.query("UPDATE tenancy_control.invitations SET invited_at = '2026-01-22T09:00:00Z'");
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => {})));
  await stopLocalPostgres({ root: dir, port });
  await rm(dir, { recursive: true, force: true });
});

describe("the audit's PostgreSQL reader", () => {
  it("reads what the committed fixture holds (the unit tests' state is a real read)", async () => {
    const { state } = await readPostgres(admin, "acme");
    const strip = (s: object) => ({ ...s, snapshotAt: undefined, serverVersion: undefined });
    expect(strip(state)).toEqual(strip(devLive()));
  });

  it("reads in one read-only repeatable-read snapshot with search_path pinned, catalogs and control plane only", async () => {
    const { client, statements } = recording(admin);
    const { queries } = await readPostgres(client, "acme");
    expect(statements).toHaveLength(queries);
    expect(statements[0]).toBe("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    expect(statements[1]).toBe("SET LOCAL search_path = pg_catalog, pg_temp");
    expect(statements.at(-1)).toBe("COMMIT");
    for (const sql of statements.slice(2, -1)) {
      const sources = [...sql.matchAll(/\b(?:FROM|JOIN)\s+([a-z_]+)\.([a-z_]+)/gi)].map((m) => m[1]);
      expect(sources.length).toBeGreaterThan(0);
      expect(sources.every((schema) => schema === "pg_catalog" || schema === "tenancy_control"), sql).toBe(true);
    }
  });

  it("sends the same number of statements for 3 workspaces and for 40", async () => {
    const small = await readPostgres(admin, "acme");
    const big = loadValidDeclaration(generateDeclaration({ workspaces: 40, membersPerWorkspace: 5 }).replace(/slug: acme\b/, "slug: bigco"), "big.yaml");
    if ("errors" in big) throw new Error(big.errors.join("\n"));
    await applyDirect(admin, big.model, "postgres");
    const large = await readPostgres(admin, "bigco");
    expect(large.state.schemas.filter((s) => s.name.startsWith("bigco__"))).toHaveLength(40);
    expect(large.queries).toBe(small.queries);
    expect(small.queries).toBe(11);
    // Every role on the server is read (acme's included); none reaches bigco's workspaces. The
    // server-level warnings of the embedded server (no TLS, ...) are no part of the tenancy.
    expect(large.state.roles.some((r) => r.name === "acme__internal__app")).toBe(true);
    const result = auditState(big, large.state);
    expect(result.findings.filter((f) => f.class !== "server")).toEqual([]);
    expect(result.clean).toBe(true);
    expect(result.accessMatrix!.rows).toHaveLength(41);
  });

  it("never runs code planted in a workspace schema, even with the audit role's search_path pointing there", async () => {
    await admin.query(`CREATE ROLE planted_login LOGIN PASSWORD 'planted-login-pw'`);
    await admin.query(`SET ROLE acme__internal__owner`);
    for (const fn of ["starts_with(text, text) RETURNS boolean", "pg_get_userbyid(oid) RETURNS name", "aclexplode(aclitem[]) RETURNS SETOF record", "json_agg(anyelement) RETURNS json", "now() RETURNS timestamptz"]) {
      if (fn.startsWith("json_agg")) continue; // an aggregate needs CREATE AGGREGATE; the function form is enough to shadow calls
      await admin.query(`CREATE FUNCTION acme__internal.${fn} LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'planted code ran as %', current_user; END $$`);
    }
    // The owner's default privileges keep PUBLIC from executing them: hand them to the login.
    await admin.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA acme__internal TO planted_login`);
    await admin.query(`RESET ROLE`);
    await admin.query(`GRANT CONNECT ON DATABASE postgres TO planted_login`);
    await admin.query(`GRANT USAGE ON SCHEMA acme__internal, tenancy_control TO planted_login`);
    await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA tenancy_control TO planted_login`);
    await admin.query(`ALTER ROLE planted_login SET search_path = acme__internal, pg_catalog`);
    try {
      const login = await connect("planted_login", "planted-login-pw");
      expect((await login.query("SHOW search_path")).rows[0].search_path).toBe("acme__internal, pg_catalog");
      await expect(login.query("SELECT starts_with('a', 'a')")).rejects.toThrow(/planted code ran/);
      const { state } = await readPostgres(login, "acme");
      expect(state.functions.filter((f) => f.schema === "acme__internal").map((f) => f.signature).sort()).toEqual(["aclexplode(aclitem[])", "now()", "pg_get_userbyid(oid)", "starts_with(text, text)"]);
      expect(state.controlPlane.memberships.length).toBeGreaterThan(0);
    } finally {
      await admin.query(`DROP FUNCTION acme__internal.starts_with(text, text), acme__internal.pg_get_userbyid(oid), acme__internal.aclexplode(aclitem[]), acme__internal.now()`);
      await admin.query(`DROP OWNED BY planted_login; DROP ROLE planted_login`);
    }
  });

  it("runs as a login role granted the auditor role (made with the control plane, as the provider does), which reads no workspace data", async () => {
    await admin.query(`CREATE ROLE alice_audit LOGIN PASSWORD 'alice-audit-pw' IN ROLE ${admin.escapeIdentifier(AUDITOR_ROLE)}`);
    const alice = await connect("alice_audit", "alice-audit-pw");
    const asAdmin = auditState(devDeclaration(), (await readPostgres(admin, "acme")).state);
    const read = await readPostgres(alice, "acme");
    const asAuditor = auditState(devDeclaration(), read.state);
    expect(asAuditor.user).toBe("alice_audit");
    // The fixture's invitations are old (info); the embedded server has no TLS, ... (server warnings).
    expect(asAuditor.findings.filter((f) => f.class !== "info" && f.class !== "server")).toEqual([]);
    expect(asAuditor.clean).toBe(true);
    expect(asAuditor.findings).toEqual(asAdmin.findings);
    expect(read.state.controlPlane.memberships.length).toBeGreaterThan(0);
    await expect(alice.query("SELECT * FROM acme__internal.integration_credentials")).rejects.toThrow(/permission denied/);
    await expect(alice.query("INSERT INTO tenancy_control.users (email) VALUES ('x@y.test')")).rejects.toThrow(/permission denied/);
  });

  it("reads a sealed-credentials table with a trigger as changed, and one dropped as missing", async () => {
    await admin.query(`SET ROLE acme__internal__owner`);
    await admin.query(`CREATE FUNCTION acme__internal.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`);
    await admin.query(`CREATE TRIGGER touch BEFORE INSERT ON acme__internal.integration_credentials FOR EACH ROW EXECUTE FUNCTION acme__internal.touch()`);
    await admin.query(`RESET ROLE`);
    await admin.query(`ALTER TABLE acme__us_sales.integration_credentials RENAME TO kept_aside`);
    try {
      const r = auditState(devDeclaration(), (await readPostgres(admin, "acme")).state);
      expect(r.findings.filter((f) => f.id.startsWith("credentials-table")).map((f) => [f.class, f.id, f.workspace, f.found])).toEqual([
        ["missing", "credentials-table-missing", "us-sales", undefined],
        ["changed", "credentials-table-changed", "internal", ["it has 1 trigger(s)"]],
      ]);
    } finally {
      await admin.query(`ALTER TABLE acme__us_sales.kept_aside RENAME TO integration_credentials`);
      await admin.query(`DROP TRIGGER touch ON acme__internal.integration_credentials; DROP FUNCTION acme__internal.touch()`);
    }
    expect(auditState(devDeclaration(), (await readPostgres(admin, "acme")).state).findings.filter((f) => f.class !== "info" && f.class !== "server")).toEqual([]);
  });

  it("runs from the compiled bin (dist/, as installed), every format, SARIF naming the package's version", async () => {
    const bin = join(root, "dist", "cli", "tenancy.js");
    expect(existsSync(bin), "dist/ is built by `npm test` (npm run build) before the tests").toBe(true);
    const url = `postgres://${server.user}@${server.host}:${port}/postgres`;
    const version = (JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { version: string }).version;
    for (const format of ["text", "markdown", "json", "sarif"]) {
      const r = spawnSync(process.execPath, [bin, "audit", "--declaration", "stacks/dev/tenancy.yaml", "--database-url", url, "--format", format],
        { cwd: root, env: { ...process.env, PGPASSWORD: server.password }, encoding: "utf8" });
      expect(r.stderr, format).toBe("");
      expect(r.status, format).toBe(0);
      if (format === "sarif") expect(JSON.parse(r.stdout).runs[0].tool.driver.version).toBe(version);
    }
  });

  it("tells which control-plane table it refused to read, and reads nothing of it", async () => {
    await admin.query("ALTER TABLE tenancy_control.people ENABLE ROW LEVEL SECURITY");
    const { state } = await readPostgres(admin, "acme");
    await admin.query("ALTER TABLE tenancy_control.people DISABLE ROW LEVEL SECURITY");
    expect(state.controlPlane.unreadable).toMatch(/tenancy_control\.people has row-level security/);
    expect(state.controlPlane.people).toEqual([]);
  });
});
