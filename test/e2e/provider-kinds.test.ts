// The provider's resource kinds called directly (no engine) against a real PostgreSQL, as a
// non-superuser admin: converge, read, drift repair, decommission, and the credentials table
// refusing what a workspace planted. The engine-driven attacks are in attacks.test.ts.
import { mkdtemp, rm, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { freePort } from "../../cli/local/net.ts";
import { deriveAppPassword, generateDataKey } from "../../components/credentials-crypto.ts";
import { workspaceGrants } from "../../components/grants.ts";
import { AUDITOR_ROLE, CONTROL_SCHEMA, workspaceNames } from "../../components/naming.ts";
import { migrationInputs } from "../../components/control-plane/migrations.ts";
import { controlPlaneKind } from "../../provider/resources/control-plane.ts";
import { boundaryKind, type BoundaryInputs } from "../../provider/resources/boundary.ts";
import { credentialsKind, type CredentialsInputs } from "../../provider/resources/credentials.ts";
import type { Context } from "../../provider/server.ts";

let dir: string, port: number, admin: LocalPostgres, ctx: Context, su: pg.Client;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tenancy-provider-"));
  await chmod(dir, 0o755);
  port = await freePort();
  const server = await ensureLocalPostgres({ root: dir, port });
  admin = await ensureAdminRole(dir, server);
  ctx = { connection: { host: admin.host, port: admin.port, user: admin.user, password: admin.password, database: admin.database }, masterKey: await generateDataKey() };
  su = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: admin.database });
  await su.connect();
});
afterAll(async () => {
  await su?.end();
  await stopLocalPostgres({ root: dir, port });
  await rm(dir, { recursive: true, force: true });
});

function boundary(ws: string): BoundaryInputs {
  const names = workspaceNames("acme", ws);
  return { organization: "acme", workspace: ws, names, database: admin.database, passwordGeneration: "1",
    grants: Object.fromEntries(workspaceGrants(names, admin.database).map(({ id, ...g }) => [id, g])) };
}
function credentials(ws: string, value = "xoxb-secret-value"): CredentialsInputs {
  const n = workspaceNames("acme", ws);
  return { organization: "acme", workspace: ws, names: { schema: n.schema, owner: n.owner, app: n.app }, keyGeneration: "1", integrations: { slack: { provider: "slack", value } } };
}
async function asApp(ws: string, sql: string): Promise<void> {
  // The password the provider derived from its master key for this workspace.
  const password = await deriveAppPassword(ctx.masterKey!, "acme", ws);
  const c = new pg.Client({ host: admin.host, port: admin.port, user: workspaceNames("acme", ws).app, password, database: admin.database });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}

describe("WorkspaceBoundary", () => {
  it("creates the boundary, reads it back clean, and a second converge changes nothing", async () => {
    const inputs = boundary("emea");
    const { outs } = await boundaryKind.create(inputs, ctx);
    const read = await boundaryKind.read("acme/emea", outs, ctx);
    expect(read?.outs.credentialsTable).toBe("ok");
    expect(read?.outs.outsiders).toEqual([]);
    expect(Object.keys(read!.outs.grants).sort()).toEqual(Object.keys(inputs.grants).sort());
    expect(await boundaryKind.diff(read!.outs, inputs, ctx)).toMatchObject({ detailedDiff: {} });
    const table = await su.query("SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'acme__emea.integration_credentials'::regclass");
    expect(table.rows[0].owner).toBe("acme__emea__owner");
  });

  it("reports a grant crossing into the workspace as drift and takes it back on update", async () => {
    await boundaryKind.create(boundary("apac"), ctx);
    // As the admin would, if it were tricked into it (a superuser's grant is the next test).
    await su.query("SET ROLE tenancy_admin; GRANT USAGE ON SCHEMA acme__emea TO acme__apac__app; GRANT acme__emea__owner TO acme__apac__app; RESET ROLE");
    const read = await boundaryKind.read("acme/emea", undefined, ctx);
    expect(read!.outs.outsiders).toEqual(expect.arrayContaining([expect.stringContaining("schema acme__emea acme__apac__app USAGE"), expect.stringContaining("has-member acme__emea__owner acme__apac__app")]));
    const diff = await boundaryKind.diff(read!.outs, boundary("emea"), ctx);
    expect(diff.detailedDiff).toHaveProperty("outsiders", "update");
    await boundaryKind.update("acme/emea", read!.outs, boundary("emea"), ctx);
    const after = await boundaryKind.read("acme/emea", undefined, ctx);
    expect(after!.outs.outsiders).toEqual([]);
    const member = await su.query("SELECT pg_has_role('acme__apac__app', 'acme__emea__owner', 'MEMBER') AS m, has_schema_privilege('acme__apac__app', 'acme__emea', 'USAGE') AS u");
    expect(member.rows[0]).toEqual({ m: false, u: false });
  });

  it("converges the rest and lists, without failing, a crossing grant only a superuser can take back", async () => {
    await su.query("GRANT acme__emea__owner TO acme__apac__ro");
    await su.query("SET ROLE tenancy_admin; GRANT USAGE ON SCHEMA acme__emea TO acme__apac__app; RESET ROLE");
    const state = (await boundaryKind.read("acme/emea", undefined, ctx))!.outs;
    const after = await boundaryKind.update("acme/emea", state, boundary("emea"), ctx);
    expect(after.notTakenBack).toEqual([`${admin.database}: has-member acme__emea__owner acme__apac__ro membership`]);
    const held = await su.query("SELECT pg_has_role('acme__apac__ro', 'acme__emea__owner', 'MEMBER') AS m, has_schema_privilege('acme__apac__app', 'acme__emea', 'USAGE') AS u");
    expect(held.rows[0]).toEqual({ m: true, u: false });
    await su.query("REVOKE acme__emea__owner FROM acme__apac__ro");
  });

  it("takes CREATEROLE back from a workspace role, and refuses, naming it, what only a superuser can take", async () => {
    await su.query("ALTER ROLE acme__apac__app CREATEROLE");
    const drifted = (await boundaryKind.read("acme/apac", undefined, ctx))!.outs;
    expect(drifted.roles["acme__apac__app"]).toBe("LOGIN CREATEROLE");
    expect((await boundaryKind.diff(drifted, boundary("apac"), ctx)).detailedDiff).toHaveProperty(`roles["acme__apac__app"]`, "update");
    await boundaryKind.update("acme/apac", drifted, boundary("apac"), ctx);
    expect((await su.query("SELECT rolcreaterole FROM pg_roles WHERE rolname = 'acme__apac__app'")).rows[0].rolcreaterole).toBe(false);

    await su.query("ALTER ROLE acme__apac__ro BYPASSRLS");
    await expect(boundaryKind.update("acme/apac", (await boundaryKind.read("acme/apac", undefined, ctx))!.outs, boundary("apac"), ctx)).rejects.toThrow(/refusing to manage role "acme__apac__ro": it has BYPASSRLS.*only a superuser/);
    await su.query("ALTER ROLE acme__apac__ro NOBYPASSRLS");
  });
});

describe("WorkspaceCredentials", () => {
  it("seals a credential as the owner role; the ciphertext only", async () => {
    await credentialsKind.create(credentials("emea"), ctx);
    const rows = await su.query("SELECT slug, ciphertext FROM acme__emea.integration_credentials");
    expect(rows.rows.map((r) => r.slug)).toEqual(["slack"]);
    expect(Buffer.from(rows.rows[0].ciphertext).toString("latin1")).not.toContain("xoxb");
  });

  it("refuses a table the app role planted (as in a schema from before the boundary made it), and runs none of its code", async () => {
    await boundaryKind.create(boundary("latam"), ctx);
    // A schema provisioned by the old provider had no credentials table until an integration came.
    await su.query("DROP TABLE acme__latam.integration_credentials");
    await asApp("latam", `CREATE TABLE acme__latam.ran (who text, session text); GRANT ALL ON acme__latam.ran TO PUBLIC;
      CREATE TABLE acme__latam.integration_credentials (slug text PRIMARY KEY, provider text, ciphertext bytea, nonce bytea, key_id text, updated_at timestamptz);
      CREATE FUNCTION acme__latam.grab() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO acme__latam.ran VALUES (current_user, session_user); EXECUTE 'RESET ROLE'; EXECUTE 'GRANT acme__emea__owner TO acme__latam__app'; RETURN NEW; END $$;
      CREATE TRIGGER grab BEFORE INSERT OR UPDATE OR DELETE ON acme__latam.integration_credentials FOR EACH ROW EXECUTE FUNCTION acme__latam.grab()`);
    const state = (await boundaryKind.read("acme/latam", undefined, ctx))!.outs;
    expect(state.credentialsTable).toMatch(/owned by "acme__latam__app"/);
    await expect(boundaryKind.update("acme/latam", state, boundary("latam"), ctx)).rejects.toThrow(/refusing to use acme__latam\.integration_credentials: it is owned by "acme__latam__app"/);
    await expect(credentialsKind.create(credentials("latam"), ctx)).rejects.toThrow(/refusing to use acme__latam\.integration_credentials/);
    expect((await su.query("SELECT * FROM acme__latam.ran")).rows).toEqual([]);
    expect((await su.query("SELECT pg_has_role('acme__latam__app', 'acme__emea__owner', 'MEMBER') AS m")).rows[0].m).toBe(false);
  });

  it("refuses a trigger on the toolkit's own table (added by its owner), naming it", async () => {
    await su.query(`SET ROLE acme__emea__owner; CREATE FUNCTION acme__emea.t() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
      CREATE TRIGGER t BEFORE INSERT ON acme__emea.integration_credentials FOR EACH ROW EXECUTE FUNCTION acme__emea.t(); RESET ROLE`);
    await expect(credentialsKind.update("acme/emea", (await credentialsKind.create(credentials("apac"), ctx)).outs, credentials("emea", "new"), ctx)).rejects.toThrow(/refusing to use acme__emea\.integration_credentials: it has 1 trigger/);
    await su.query("DROP TRIGGER t ON acme__emea.integration_credentials");
  });
});

describe("ControlPlane's auditor role", () => {
  const plane = () => ({ schema: CONTROL_SCHEMA, database: admin.database, migrations: migrationInputs() });
  const asAdmin = async (sql: string) => {
    const c = new pg.Client({ host: admin.host, port: admin.port, user: admin.user, password: admin.password, database: admin.database });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  const login = async (sql: string) => {
    const c = new pg.Client({ host: admin.host, port: admin.port, user: "pipeline_auditor", password: "pipeline-auditor-pw", database: admin.database });
    await c.connect();
    try { return (await c.query(sql)).rows; } finally { await c.end(); }
  };

  it("is made NOLOGIN with the control plane, reads it, and reads no workspace table", async () => {
    const { outs } = await controlPlaneKind.create(plane(), ctx);
    expect(outs.auditor).toBe("ok");
    const read = (await controlPlaneKind.read(CONTROL_SCHEMA, outs, ctx))!;
    expect(read.outs.auditor).toBe("ok");
    expect(await controlPlaneKind.diff(read.outs, plane())).toEqual({ replaces: [], detailedDiff: {} });
    expect((await su.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", [AUDITOR_ROLE])).rows).toEqual([{ rolcanlogin: false }]);
    // Granted as the README says, by the admin that made it (it holds ADMIN OPTION on it).
    await asAdmin(`CREATE ROLE pipeline_auditor LOGIN PASSWORD 'pipeline-auditor-pw' IN ROLE ${AUDITOR_ROLE}`);
    expect(await login(`SELECT count(*)::int AS n FROM ${CONTROL_SCHEMA}.schema_migrations`)).toEqual([{ n: migrationInputs().length }]);
    await boundaryKind.create(boundary("audited"), ctx);
    await expect(login("SELECT * FROM acme__audited.integration_credentials")).rejects.toThrow(/permission denied/);
    await expect(login(`INSERT INTO ${CONTROL_SCHEMA}.users (email) VALUES ('x@y.test')`)).rejects.toThrow(/permission denied/);
  });

  it("is read back drifted when someone changed it, and an update puts it back", async () => {
    await su.query(`ALTER ROLE ${AUDITOR_ROLE} LOGIN CREATEROLE`);
    await asAdmin(`GRANT acme__audited__ro TO ${AUDITOR_ROLE}`);
    await su.query(`GRANT INSERT ON ${CONTROL_SCHEMA}.users TO ${AUDITOR_ROLE}`);
    await su.query(`REVOKE SELECT ON ${CONTROL_SCHEMA}.people FROM ${AUDITOR_ROLE}`);
    const drifted = (await controlPlaneKind.read(CONTROL_SCHEMA, undefined, ctx))!.outs;
    expect(drifted.auditor).toBe(`it can log in; it has CREATEROLE; grant auditor-control-tables is not in effect; it is a member of acme__audited__ro; it holds INSERT on users`);
    expect((await controlPlaneKind.diff(drifted, plane())).detailedDiff).toEqual({ auditor: "update" });
    expect((await controlPlaneKind.update(CONTROL_SCHEMA, drifted, plane(), ctx)).auditor).toBe("ok");
    expect((await controlPlaneKind.read(CONTROL_SCHEMA, undefined, ctx))!.outs.auditor).toBe("ok");
    await expect(login("SELECT 1")).resolves.toEqual([{ "?column?": 1 }]); // the login role still works through it
    await expect(login("SELECT * FROM acme__audited.integration_credentials")).rejects.toThrow(/permission denied/);
  });

  it("is refused, naming the fix, when someone gave it what the admin cannot take away or take back", async () => {
    await su.query(`ALTER ROLE ${AUDITOR_ROLE} SUPERUSER CREATEDB`);
    try {
      await expect(controlPlaneKind.update(CONTROL_SCHEMA, (await controlPlaneKind.read(CONTROL_SCHEMA, undefined, ctx))!.outs, plane(), ctx))
        .rejects.toThrow(`refusing to manage role "${AUDITOR_ROLE}": it has SUPERUSER, CREATEDB, which the admin cannot take away; a superuser can (ALTER ROLE ${AUDITOR_ROLE} NOSUPERUSER NOCREATEDB)`);
    } finally {
      await su.query(`ALTER ROLE ${AUDITOR_ROLE} NOSUPERUSER NOCREATEDB`);
    }
    await su.query(`GRANT acme__audited__owner TO ${AUDITOR_ROLE}`);
    try {
      await expect(controlPlaneKind.update(CONTROL_SCHEMA, (await controlPlaneKind.read(CONTROL_SCHEMA, undefined, ctx))!.outs, plane(), ctx))
        .rejects.toThrow(/refusing to leave role "tenancy_auditor" a member of "acme__audited__owner", which the admin cannot take back; a superuser can \(REVOKE acme__audited__owner FROM tenancy_auditor GRANTED BY \w+\)/);
    } finally {
      await su.query(`REVOKE acme__audited__owner FROM ${AUDITOR_ROLE}`);
    }
    expect((await controlPlaneKind.update(CONTROL_SCHEMA, (await controlPlaneKind.read(CONTROL_SCHEMA, undefined, ctx))!.outs, plane(), ctx)).auditor).toBe("ok");
  });
});

describe("decommission", () => {
  it("drops the schema, what the app made in it, and the roles", async () => {
    await asApp("emea", "CREATE TABLE acme__emea.notes (body text); INSERT INTO acme__emea.notes VALUES ('x')");
    await boundaryKind.delete("acme/emea", (await boundaryKind.read("acme/emea", undefined, ctx))!.outs, ctx);
    const left = await su.query("SELECT (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'acme\\_\\_emea\\_\\_%')::int AS roles, (SELECT count(*) FROM pg_namespace WHERE nspname = 'acme__emea')::int AS schemas");
    expect(left.rows[0]).toEqual({ roles: 0, schemas: 0 });
  });
});
