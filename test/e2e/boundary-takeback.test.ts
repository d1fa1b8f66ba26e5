// The boundary's take-back and its all-or-nothing delete, with the provider's kinds called
// directly (no engine) against a real PostgreSQL as the non-superuser admin. Each test plants its
// attack first (as a workspace's app role, or as the superuser for what the admin cannot undo),
// runs the kind, then checks the catalogs with its own SQL.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { freePort } from "../../cli/local/net.ts";
import { deriveAppPassword, generateDataKey } from "../../components/credentials-crypto.ts";
import { workspaceGrants } from "../../components/grants.ts";
import { workspaceNames } from "../../components/naming.ts";
import { boundaryKind, type BoundaryInputs, type BoundaryState } from "../../provider/resources/boundary.ts";
import { workspaceRecordKind } from "../../provider/resources/control-plane.ts";
import { credentialsKind, type CredentialsInputs } from "../../provider/resources/credentials.ts";
import type { Context } from "../../provider/server.ts";

let dir: string, port: number, admin: LocalPostgres, server: LocalPostgres, ctx: Context;
const states = new Map<string, BoundaryState>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tenancy-takeback-"));
  await chmod(dir, 0o755);
  port = await freePort();
  server = await ensureLocalPostgres({ root: dir, port });
  admin = await ensureAdminRole(dir, server);
  ctx = { connection: { host: admin.host, port: admin.port, user: admin.user, password: admin.password, database: admin.database }, masterKey: await generateDataKey() };
  for (const ws of ["a", "b", "c"]) states.set(ws, (await boundaryKind.create(boundary(ws), ctx)).outs);
});
afterAll(async () => {
  await stopLocalPostgres({ root: dir, port });
  await rm(dir, { recursive: true, force: true });
});

function boundary(ws: string, generation = "1"): BoundaryInputs {
  const names = workspaceNames("acme", ws);
  return { organization: "acme", workspace: ws, names, database: admin.database, passwordGeneration: generation,
    grants: Object.fromEntries(workspaceGrants(names, admin.database).map(({ id, ...g }) => [id, g])) };
}
function credentials(ws: string): CredentialsInputs {
  const n = workspaceNames("acme", ws);
  return { organization: "acme", workspace: ws, names: { schema: n.schema, owner: n.owner, app: n.app }, keyGeneration: "1", integrations: { slack: { provider: "slack", value: "xoxb-secret-value" } } };
}
async function connect(user: string, password: string, database: string) {
  const c = new pg.Client({ host: admin.host, port: admin.port, user, password, database });
  await c.connect();
  return c;
}
/** As the workspace's app role (its derived password), in `database`. */
async function asApp(ws: string, sql: string, database = admin.database, generation = "1") {
  const c = await connect(workspaceNames("acme", ws).app, await deriveAppPassword(ctx.masterKey!, "acme", ws, generation), database);
  try { return (await c.query(sql)); } finally { await c.end(); }
}
/** As the superuser: the test's own view of the catalogs, and plants the admin cannot undo. */
async function su<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, database = admin.database, params: unknown[] = []): Promise<T[]> {
  const c = await connect(server.user, server.password, database);
  try { return (await c.query<T>(sql, params)).rows; } finally { await c.end(); }
}
/** Apply again as the engine would: diff against the last state, update when it says so. */
async function apply(ws: string, inputs = boundary(ws)): Promise<{ changed: boolean; state: BoundaryState }> {
  const diff = await boundaryKind.diff(states.get(ws)!, inputs, ctx);
  const changed = Object.keys(diff.detailedDiff).length > 0;
  if (changed) states.set(ws, await boundaryKind.update(`acme/${ws}`, states.get(ws)!, inputs, ctx));
  return { changed, state: states.get(ws)! };
}
/**
 * Runs `body` on a server as an operator's may be, where the superuser statements of the README
 * were not run: PUBLIC may connect to `postgres` again (the embedded setup revoked it). The
 * provider's take-back in other databases is for such servers.
 */
async function withPublicPostgres<T>(body: () => Promise<T>): Promise<T> {
  await su("GRANT CONNECT ON DATABASE postgres TO PUBLIC", "postgres");
  try { return await body(); } finally { await su("REVOKE CONNECT ON DATABASE postgres FROM PUBLIC", "postgres"); }
}
const roleCount = async (ws: string) => (await su<{ n: number }>("SELECT count(*)::int AS n FROM pg_roles WHERE rolname LIKE $1", admin.database, [`acme\\_\\_${ws}\\_\\_%`]))[0]!.n;

describe("take-back", () => {
  it("takes back, on the next apply without any change declared, grants of a procedure, column, type, domain, sequence, aggregate, view, materialized view, large object, foreign server and default privilege", async () => {
    // A foreign server needs a wrapper only a superuser can make; the workspace then owns the server.
    await su("CREATE FOREIGN DATA WRAPPER w; GRANT USAGE ON FOREIGN DATA WRAPPER w TO acme__a__app; CREATE SERVER remote FOREIGN DATA WRAPPER w; ALTER SERVER remote OWNER TO acme__a__app");
    await asApp("a", `CREATE PROCEDURE acme__a.p() LANGUAGE sql AS $$SELECT 1$$; GRANT EXECUTE ON PROCEDURE acme__a.p() TO PUBLIC;
      CREATE TABLE acme__a.t (c int, "Odd col" text); GRANT SELECT (c, "Odd col") ON acme__a.t TO acme__b__app;
      CREATE TYPE acme__a."we ird" AS (x int); GRANT USAGE ON TYPE acme__a."we ird" TO acme__b__ro;
      CREATE DOMAIN acme__a.d AS int; GRANT USAGE ON DOMAIN acme__a.d TO PUBLIC;
      CREATE SEQUENCE acme__a.sq; GRANT USAGE, SELECT ON SEQUENCE acme__a.sq TO PUBLIC;
      CREATE AGGREGATE acme__a.total(int) (sfunc = int4pl, stype = int); GRANT EXECUTE ON FUNCTION acme__a.total(int) TO acme__b__app;
      SELECT lo_create(5555); GRANT SELECT ON LARGE OBJECT 5555 TO PUBLIC;
      CREATE VIEW acme__a.v AS SELECT 1 AS x; GRANT SELECT ON acme__a.v TO PUBLIC;
      CREATE MATERIALIZED VIEW acme__a.mv AS SELECT 1 AS x; GRANT SELECT ON acme__a.mv TO acme__b__ro;
      GRANT USAGE ON FOREIGN SERVER remote TO acme__b__app;
      ALTER DEFAULT PRIVILEGES IN SCHEMA acme__a GRANT SELECT ON TABLES TO acme__b__app`);
    const reach = () => su(`SELECT has_function_privilege('acme__b__app', 'acme__a.p()', 'EXECUTE') AS procedure,
      has_column_privilege('acme__b__app', 'acme__a.t', 'Odd col', 'SELECT') OR has_column_privilege('acme__b__app', 'acme__a.t', 'c', 'SELECT') AS columns,
      has_type_privilege('acme__b__ro', 'acme__a."we ird"', 'USAGE') AS type, has_type_privilege('acme__b__app', 'acme__a.d', 'USAGE') AS domain,
      has_sequence_privilege('acme__b__app', 'acme__a.sq', 'USAGE') AS sequence, has_function_privilege('acme__b__app', 'acme__a.total(integer)', 'EXECUTE') AS aggregate,
      (SELECT lomacl::text FROM pg_largeobject_metadata WHERE oid = 5555) AS large_object,
      has_table_privilege('acme__b__app', 'acme__a.v', 'SELECT') AS view, has_table_privilege('acme__b__ro', 'acme__a.mv', 'SELECT') AS matview,
      has_server_privilege('acme__b__app', 'remote', 'USAGE') AS server,
      (SELECT count(*)::int FROM pg_default_acl d, aclexplode(d.defaclacl) x WHERE d.defaclrole = 'acme__a__app'::regrole AND x.grantee = 'acme__b__app'::regrole) AS defaults`);
    // Planted: every one of them is in effect before the run.
    expect(await reach()).toEqual([{ procedure: true, columns: true, type: true, domain: true, sequence: true, aggregate: true, large_object: "{acme__a__app=rw/acme__a__app,=r/acme__a__app}", view: true, matview: true, server: true, defaults: 1 }]);
    const { changed, state } = await apply("a");
    expect(changed).toBe(true);
    expect(state.notTakenBack).toEqual([]);
    const [held] = await reach();
    expect(held).toEqual({ procedure: false, columns: false, type: false, domain: false, sequence: false, aggregate: false, large_object: "{acme__a__app=rw/acme__a__app}", view: false, matview: false, server: false, defaults: 0 });
    // The workspace keeps the use of its own objects, and the next apply finds nothing to do.
    expect((await asApp("a", "CALL acme__a.p()")).command).toBe("CALL");
    expect((await apply("a")).changed).toBe(false);
  });

  it("keeps the app out of postgres and template1 on the embedded default (the setup revoked PUBLIC's CONNECT)", async () => {
    for (const db of ["postgres", "template1"]) await expect(asApp("a", "SELECT 1", db)).rejects.toThrow(/permission denied for database/);
    expect(await su("SELECT has_database_privilege('acme__a__app', 'postgres', 'CONNECT') AS connect, has_database_privilege('acme__a__app', 'postgres', 'TEMPORARY') AS temp, has_database_privilege($1, 'postgres', 'CONNECT') AS admin",
      admin.database, [admin.user])).toEqual([{ connect: false, temp: false, admin: true }]);
  });

  it("takes back a large-object grant a workspace made in the postgres database (a server where PUBLIC may connect there)", async () => {
    await withPublicPostgres(async () => {
      await asApp("a", "SELECT lo_create(424242); GRANT SELECT ON LARGE OBJECT 424242 TO acme__b__app, acme__b__owner, acme__b__ro, PUBLIC", "postgres");
      expect((await apply("a")).changed).toBe(true);
    });
    expect(await su("SELECT lomacl::text AS acl FROM pg_largeobject_metadata WHERE oid = 424242", "postgres")).toEqual([{ acl: "{acme__a__app=rw/acme__a__app}" }]);
  });

  it("reports, and goes on, a crossing only a superuser can take back: the rest is taken back, the password rotated, another workspace deleted", async () => {
    await su("GRANT acme__a__owner TO acme__b__ro");
    await asApp("a", "CREATE PROCEDURE acme__a.q() LANGUAGE sql AS $$SELECT 1$$; GRANT EXECUTE ON PROCEDURE acme__a.q() TO PUBLIC");
    const { changed, state } = await apply("a", boundary("a", "2"));
    expect(changed).toBe(true);
    expect(state.notTakenBack).toEqual([`${admin.database}: has-member acme__a__owner acme__b__ro membership`]);
    expect(await su("SELECT has_function_privilege('acme__b__app', 'acme__a.q()', 'EXECUTE') AS q, pg_has_role('acme__b__ro', 'acme__a__owner', 'MEMBER') AS member"))
      .toEqual([{ q: false, member: true }]);
    // Rotated: the new generation's password logs in, the old one no longer does.
    expect((await asApp("a", "SELECT 1 AS one", admin.database, "2")).rows).toEqual([{ one: 1 }]);
    await expect(asApp("a", "SELECT 1")).rejects.toThrow(/password authentication failed/);
    // Reported once: the next preview shows no change for it.
    expect((await apply("a", boundary("a", "2"))).changed).toBe(false);
    await boundaryKind.delete("acme/c", states.get("c")!, ctx);
    expect(await roleCount("c")).toBe(0);
    await su("REVOKE acme__a__owner FROM acme__b__ro");
    expect((await apply("a", boundary("a", "2"))).state.notTakenBack).toEqual([]);
  });

  it("takes CONNECT and TEMPORARY on another database back from the workspace's roles, and lists what only the database's owner could take (PUBLIC's)", async () => {
    await su(`CREATE DATABASE side OWNER ${admin.user}`);
    const c = await connect(admin.user, admin.password, "side");
    try { await c.query("REVOKE ALL ON DATABASE side FROM PUBLIC; GRANT CONNECT, TEMPORARY ON DATABASE side TO acme__b__app"); } finally { await c.end(); }
    const state = await boundaryKind.update("acme/b", states.get("b")!, boundary("b"), ctx);
    expect(await su("SELECT has_database_privilege('acme__b__app', 'side', 'CONNECT') AS connect, has_database_privilege('acme__b__app', 'side', 'TEMPORARY') AS temp")).toEqual([{ connect: false, temp: false }]);
    // The embedded default's postgres and template1 are closed: nothing is left.
    expect(state.otherDatabases).toEqual([]);
    // Where PUBLIC may still connect (an operator's server), the state lists it.
    const warned: string[] = [];
    const open = await withPublicPostgres(() => boundaryKind.update("acme/b", state, boundary("b"), { ...ctx, warn: async (m) => { warned.push(m); } }));
    expect(open.otherDatabases).toEqual(["postgres: acme__b__app has CONNECT (through PUBLIC or a grant the admin cannot revoke; owner postgres)"]);
    expect(warned).toEqual(["acme/b: its app role can still connect to another database of the server, outside its boundary: postgres: acme__b__app has CONNECT (through PUBLIC or a grant the admin cannot revoke; owner postgres); that database's owner or a superuser must revoke it (README: What only a superuser can close)"]);
  });
});

describe("delete, all or nothing", () => {
  it("deletes a workspace whose roles another workspace granted a large object in postgres (the admin clears it first)", async () => {
    const { outs } = await boundaryKind.create(boundary("e"), ctx);
    await withPublicPostgres(() => asApp("a", "SELECT lo_create(434343); GRANT SELECT ON LARGE OBJECT 434343 TO acme__e__app, acme__e__owner, acme__e__ro", "postgres", "2"));
    await boundaryKind.delete("acme/e", outs, ctx);
    expect(await roleCount("e")).toBe(0);
    expect(await su("SELECT lomacl::text AS acl FROM pg_largeobject_metadata WHERE oid = 434343", "postgres")).toEqual([{ acl: "{acme__a__app=rw/acme__a__app}" }]);
  });

  it("deletes nothing, in one line naming the database and the object, while something only a superuser can remove holds its roles; then deletes it all", async () => {
    const { outs } = await boundaryKind.create(boundary("d"), ctx);
    const creds = (await credentialsKind.create(credentials("d"), ctx)).outs;
    // Named with an ESC sequence: the refusal shows it escaped, as one line.
    await su(`CREATE TABLE public."held\x1b[2K" (x int); GRANT SELECT ON public."held\x1b[2K" TO acme__d__ro`, "postgres");
    const refusal = /^refusing to delete the (credentials|control-plane record|boundary \(schema and roles\)) of acme__d: its roles could not be dropped, so nothing of it was deleted; [^\n\x1b]*database postgres: table public\."held\\u\{1B\}\[2K" \(a privilege of acme__d__ro\)$/;
    await expect(credentialsKind.delete("acme/d", creds, ctx)).rejects.toThrow(refusal);
    await expect(workspaceRecordKind.delete("acme/d", { organization: "acme", slug: "d" } as never, ctx)).rejects.toThrow(refusal);
    await expect(boundaryKind.delete("acme/d", outs, ctx)).rejects.toThrow(refusal);
    const [kept] = await su(`SELECT (SELECT count(*)::int FROM acme__d.integration_credentials) AS rows, (SELECT count(*)::int FROM pg_namespace WHERE nspname = 'acme__d') AS schemas,
      (SELECT count(*)::int FROM pg_roles WHERE rolname LIKE 'acme\\_\\_d\\_\\_%') AS roles, has_database_privilege('acme__d__app', current_database(), 'CONNECT') AS connect`);
    expect(kept).toEqual({ rows: 1, schemas: 1, roles: 3, connect: true });

    await su(`DROP TABLE public."held\x1b[2K"`, "postgres");
    await credentialsKind.delete("acme/d", creds, ctx);
    await boundaryKind.delete("acme/d", outs, ctx);
    expect(await roleCount("d")).toBe(0);
    expect(await su("SELECT nspname FROM pg_namespace WHERE nspname = 'acme__d'")).toEqual([]);
  });
});
