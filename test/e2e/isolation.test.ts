// Two workspaces' PostgreSQL boundaries on the real engine and a real server, applied by an admin
// that is NOT a superuser (CREATEROLE, CREATEDB, owner of the database), then probed with real
// logins: each app role, a login with no grants at all, and a login holding the readonly role.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { OutputMap } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIsolationHarness, type IsolationHarness } from "./isolation-harness.ts";

interface WorkspaceOutput { schema: string; owner: string; app: string; readonly: string; password: string }

const timings: Record<string, string> = {};
async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    timings[label] = `${((performance.now() - start) / 1000).toFixed(1)} s`;
  }
}

function workspace(outputs: OutputMap, slug: "a" | "b"): WorkspaceOutput {
  return outputs[slug]!.value as WorkspaceOutput;
}

/** Operations other than "same" in an update/refresh summary. */
function changed(summary: Record<string, number> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(summary ?? {}).filter(([op]) => op !== "same"));
}

async function stateText(h: IsolationHarness): Promise<string> {
  const dir = join(h.dir, ".pulumi", "stacks", "tenancy-isolation");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".json"));
  return (await Promise.all(files.map((f) => readFile(join(dir, f), "utf8")))).join("\n");
}

describe("per-workspace PostgreSQL isolation on the real engine", () => {
  let h: IsolationHarness;
  let a: WorkspaceOutput;
  let b: WorkspaceOutput;
  let created: Record<string, number> | undefined;
  let previewed: Record<string, number> | undefined;
  const asApp = (ws: WorkspaceOutput) => h.connect({ user: ws.app, password: ws.password });

  beforeAll(async () => {
    h = await createIsolationHarness("isolation");
    previewed = (await timed("preview of a fresh stack", () => h.stack.preview())).changeSummary;
    const result = await timed("up, 2 workspaces (4 resources)", () => h.stack.up());
    created = result.summary.resourceChanges;
    a = workspace(result.outputs, "a");
    b = workspace(result.outputs, "b");
  });
  afterAll(async () => {
    console.log(`isolation e2e timings: ${JSON.stringify(timings)}`);
    await h?.dispose();
  });

  it("creates one boundary resource per workspace, as an admin that is not a superuser", async () => {
    // The stack, the tenancy provider, and per workspace one boundary (roles, schema, table, grants).
    expect(previewed).toEqual({ create: 2 + 2 });
    expect(created).toEqual({ create: 2 + 2 });
    expect(await h.query("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1", [h.admin.user]))
      .toEqual([{ rolsuper: false, rolcreaterole: true, rolcreatedb: true }]);
    expect(await h.query("SELECT rolname, rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname LIKE 'acme\\_\\_a\\_\\_%' ORDER BY 1")).toEqual([
      { rolname: "acme__a__app", rolcanlogin: true, rolsuper: false, rolcreaterole: false, rolcreatedb: false },
      { rolname: "acme__a__owner", rolcanlogin: false, rolsuper: false, rolcreaterole: false, rolcreatedb: false },
      { rolname: "acme__a__ro", rolcanlogin: false, rolsuper: false, rolcreaterole: false, rolcreatedb: false },
    ]);
  });

  it("grants on each schema name only that workspace's roles, and PUBLIC nothing", async () => {
    const acl = await h.query<{ schema: string; owner: string; grantee: string; privilege: string }>(`
      SELECT n.nspname AS schema, pg_get_userbyid(n.nspowner) AS owner,
             CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type AS privilege
      FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname IN ('acme__a', 'acme__b') ORDER BY 1, 3, 4`);
    for (const ws of [a, b]) {
      const rows = acl.filter((r) => r.schema === ws.schema);
      expect(rows[0]!.owner).toBe(ws.owner);
      expect(rows.map((r) => `${r.grantee} ${r.privilege}`)).toEqual([
        `${ws.app} CREATE`, `${ws.app} USAGE`, `${ws.owner} CREATE`, `${ws.owner} USAGE`, `${ws.readonly} USAGE`,
      ]);
    }
  });

  it("makes objects created later readable by the workspace's readonly role and executable by no one else", async () => {
    const defaults = await h.query<{ line: string }>(`
      SELECT concat_ws(' ', pg_get_userbyid(d.defaclrole), coalesce(n.nspname, '*'), d.defaclobjtype,
             CASE x.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END, x.privilege_type) AS line
      FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) x ORDER BY 1`);
    expect(defaults.map((d) => d.line)).toEqual([a, b].flatMap((ws) => [
      `${ws.app} * f ${ws.app} EXECUTE`,
      `${ws.app} ${ws.schema} r ${ws.readonly} SELECT`,
      `${ws.owner} * f ${ws.owner} EXECUTE`,
      `${ws.owner} ${ws.schema} r ${ws.readonly} SELECT`,
    ]));
  });

  it("lets each app role create, write and read in its own schema", async () => {
    for (const ws of [a, b]) {
      const app = await asApp(ws);
      await app.query(`CREATE TABLE ${ws.schema}.notes (id int PRIMARY KEY, body text)`);
      await app.query(`INSERT INTO ${ws.schema}.notes VALUES (1, $1)`, [`secret of ${ws.schema}`]);
      expect((await app.query(`SELECT body FROM ${ws.schema}.notes`)).rows).toEqual([{ body: `secret of ${ws.schema}` }]);
      await app.query(`CREATE FUNCTION ${ws.schema}.answer() RETURNS int LANGUAGE sql AS 'SELECT 42'`);
    }
  });

  it("denies each app role the other workspace's schema", async () => {
    for (const [self, other] of [[a, b], [b, a]] as const) {
      const app = await asApp(self);
      await expect(app.query(`SELECT * FROM ${other.schema}.notes`)).rejects.toThrow(`permission denied for schema ${other.schema}`);
      await expect(app.query(`CREATE TABLE ${other.schema}.stolen (x int)`)).rejects.toThrow(`permission denied for schema ${other.schema}`);
      await expect(app.query(`SELECT ${other.schema}.answer()`)).rejects.toThrow(`permission denied for schema ${other.schema}`);
    }
  });

  it("gives a login with no grants (PUBLIC) nothing in either schema", async () => {
    await h.query("CREATE ROLE isolation_stranger LOGIN PASSWORD 'stranger-password'");
    const stranger = await h.connect({ user: "isolation_stranger", password: "stranger-password" });
    for (const ws of [a, b]) {
      await expect(stranger.query(`SELECT * FROM ${ws.schema}.notes`)).rejects.toThrow(`permission denied for schema ${ws.schema}`);
      await expect(stranger.query(`CREATE TABLE ${ws.schema}.mine (x int)`)).rejects.toThrow(`permission denied for schema ${ws.schema}`);
    }
    // And the app's functions are not executable by PUBLIC even were the schema reachable.
    const publicExecute = await h.query(`SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
      aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x WHERE n.nspname IN ('acme__a', 'acme__b') AND x.grantee = 0`);
    expect(publicExecute).toEqual([]);
  });

  it("lets the readonly role read tables created later, by the app or the owner, and write none", async () => {
    await h.query("CREATE ROLE isolation_reader LOGIN PASSWORD 'reader-password'");
    await h.query(`GRANT ${a.readonly} TO isolation_reader`);
    await h.query(`SET ROLE ${a.owner}; CREATE TABLE ${a.schema}.by_owner (x int); INSERT INTO ${a.schema}.by_owner VALUES (7); RESET ROLE`);
    const reader = await h.connect({ user: "isolation_reader", password: "reader-password" });
    await reader.query(`SET ROLE ${a.readonly}`);
    expect((await reader.query(`SELECT body FROM ${a.schema}.notes`)).rows).toEqual([{ body: "secret of acme__a" }]);
    expect((await reader.query(`SELECT x FROM ${a.schema}.by_owner`)).rows).toEqual([{ x: 7 }]);
    await expect(reader.query(`INSERT INTO ${a.schema}.notes VALUES (2, 'x')`)).rejects.toThrow("permission denied for table notes");
    await expect(reader.query(`CREATE TABLE ${a.schema}.mine (x int)`)).rejects.toThrow(`permission denied for schema ${a.schema}`);
    await expect(reader.query(`SELECT * FROM ${b.schema}.notes`)).rejects.toThrow(`permission denied for schema ${b.schema}`);
  });

  it("shows no changes on a second up and no drift on refresh", async () => {
    const up = await timed("second up (no changes)", () => h.stack.up());
    expect(changed(up.summary.resourceChanges)).toEqual({});
    const refresh = await timed("refresh (no drift)", () => h.stack.refresh());
    expect(changed(refresh.summary.resourceChanges)).toEqual({});
  });

  it("sees a privilege revoked behind its back as gone on refresh, and grants it again on up", async () => {
    await h.query(`REVOKE SELECT ON ${a.schema}.notes FROM ${a.readonly}`);
    const refresh = await h.stack.refresh();
    // The boundary reads the grant as no longer in effect, and its update grants it again.
    expect(changed(refresh.summary.resourceChanges)).toEqual({ update: 1 });
    const up = await h.stack.up();
    expect(changed(up.summary.resourceChanges)).toEqual({ update: 1 });
    expect(await h.query(`SELECT has_table_privilege($1, '${a.schema}.notes', 'SELECT') AS ok`, [a.readonly])).toEqual([{ ok: true }]);
  });

  it("adopts what an interrupted apply left behind when up runs again", async () => {
    // Forget workspace b in the state, as if the apply had died after creating its objects.
    const deployment = await h.stack.exportStack();
    const resources = (deployment.deployment as { resources: { urn: string }[] }).resources;
    (deployment.deployment as { resources: unknown[] }).resources = resources.filter((r) => !r.urn.includes("acme-b"));
    await h.stack.importStack(deployment);
    const up = await h.stack.up();
    expect(changed(up.summary.resourceChanges)).toEqual({ create: 1 });
    b = workspace(up.outputs, "b"); // the same derived password, set again on the adopted role
    const app = await asApp(b);
    expect((await app.query(`SELECT body FROM ${b.schema}.notes`)).rows).toEqual([{ body: "secret of acme__b" }]);
    expect(changed((await h.stack.up()).summary.resourceChanges)).toEqual({});
  });

  it("keeps every password and the admin's out of the state in plain text", async () => {
    const state = await stateText(h);
    for (const secret of [a.password, b.password, h.admin.password]) expect(state).not.toContain(secret);
    // What a policy or audit reads stays in clear: each grant's role, object and privileges.
    const deployment = JSON.parse(state) as { checkpoint: { latest: { resources: { urn: string; inputs: Record<string, unknown> }[] } } };
    const boundary = deployment.checkpoint.latest.resources.find((r) => r.urn.endsWith("::acme-a-boundary"))!;
    const connect = (boundary.inputs.grants as Record<string, Record<string, unknown>>)["connect-app"]!;
    expect({ role: connect.role, on: connect.on, privileges: connect.privileges })
      .toEqual({ role: "acme__a__app", on: { kind: "database", database: "app" }, privileges: ["CONNECT"] });
  });

  it("destroys everything in one go, although the app roles own tables, and leaves nothing in the catalogs", async () => {
    const owners = await h.query("SELECT schemaname, tablename, tableowner FROM pg_tables WHERE tablename = 'notes' ORDER BY 1");
    expect(owners.map((t) => t.tableowner)).toEqual([a.app, b.app]);
    // Roles go before their schema: DROP ROLE succeeds only once REASSIGN OWNED moved the tables.
    const result = await timed("destroy, 2 workspaces", () => h.stack.destroy());
    expect(result.summary.resourceChanges).toEqual({ delete: 4 });
    expect(await h.query("SELECT rolname FROM pg_roles WHERE rolname LIKE 'acme\\_\\_%'")).toEqual([]);
    expect(await h.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'acme\\_\\_%'")).toEqual([]);
    expect(await h.query("SELECT defaclrole FROM pg_default_acl")).toEqual([]);
    expect(await h.query("SELECT datacl::text FROM pg_database WHERE datname = 'app' AND datacl::text LIKE '%acme%'")).toEqual([]);
    // The admin's own memberships in the workspace roles went with them.
    expect(await h.query("SELECT roleid FROM pg_auth_members WHERE member = $1::regrole", [h.admin.user])).toEqual([]);
  });
});
