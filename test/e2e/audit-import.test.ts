// `tenancy import` round trips: both example stacks applied to one real PostgreSQL (directly,
// through the control-plane SQL and grants DDL), imported, validated and audited clean; and each
// of them applied by the real engine, imported, and applied again from the imported declaration:
// nothing to change, replace or delete, the application's table and rows still there.
import { readFileSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadValidDeclaration } from "../../audit/audit.ts";
import { applyDirect } from "../../bench/audit-fixture.ts";
import { freePort } from "../../cli/local/net.ts";
import { closeOtherDatabases, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { main } from "../../cli/main.ts";
import { createHarness, root, type Harness } from "./harness.ts";

const stacks = { acme: "stacks/dev/tenancy.yaml", northstar: "stacks/agency/tenancy.yaml" } as const;

async function cli(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const sink = (write: (s: string) => void) => new Writable({ write(chunk, _enc, done) { write(String(chunk)); done(); } });
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return { code: await main(argv, { cwd: root, stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)) }), stdout, stderr };
  } finally {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}

describe("tenancy import on both example stacks in one database (applied directly)", () => {
  let dir: string;
  let port: number;
  let server: LocalPostgres;
  let url: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tenancy-e2e-import-"));
    await chmod(dir, 0o755);
    port = await freePort();
    server = await ensureLocalPostgres({ root: dir, port });
    const client = new pg.Client({ host: server.host, port, user: server.user, password: server.password, database: server.database });
    await client.connect();
    // As the embedded default's setup does: no workspace role may reach postgres (here the tenancy's own) or template1.
    for (const statement of closeOtherDatabases()) await client.query(statement);
    for (const file of Object.values(stacks)) {
      const d = loadValidDeclaration(readFileSync(join(root, file), "utf8"), file);
      if ("errors" in d) throw new Error(d.errors.join("\n"));
      await applyDirect(client, d.model, server.database);
    }
    await client.end();
    url = `postgres://${server.user}@${server.host}:${port}/${server.database}`;
  });
  afterAll(async () => {
    await stopLocalPostgres({ root: dir, port });
    await rm(dir, { recursive: true, force: true });
  });

  for (const [organization, file] of Object.entries(stacks)) {
    it(`imports ${organization} (${file}): it validates and audits clean against the same database`, async () => {
      const env = { PGPASSWORD: server.password };
      const out = join(dir, `${organization}.yaml`);
      const imported = await cli(["import", "--database-url", url, "--organization", organization, "--output", out], env);
      expect(imported).toMatchObject({ code: 0, stdout: "" });
      expect(await cli(["validate", out], env)).toMatchObject({ code: 0, stdout: "1 file valid\n" });
      const audit = await cli(["audit", "--declaration", out, "--database-url", url], env);
      expect(audit.stderr).toBe("");
      expect(audit.stdout).toMatch(/^audit of .*: clean(?: \([^)]*\))?$/m); // server warnings (no TLS, ...) may follow
      expect(audit.code).toBe(0);
      // The original declaration audits clean too: the other organization in the database is not ours.
      expect((await cli(["audit", "--declaration", file, "--database-url", url], env)).code).toBe(0);
    });
  }

  it("refuses an organization the database does not hold, in one line", async () => {
    const r = await cli(["import", "--database-url", url, "--organization", "nobody"], { PGPASSWORD: server.password });
    expect(r).toEqual({ code: 2, stdout: "", stderr: 'tenancy: organization "nobody" has no row in tenancy_control.organizations; nothing to import\n' });
  });
});

/** Per stack: a workspace whose app role makes a table of its own, with rows, before the import. */
const appTables = { acme: "acme__internal", northstar: "northstar__client_bakery" } as const;

for (const [organization, file] of Object.entries(stacks) as [keyof typeof stacks, string][]) {
  describe(`tenancy import of ${file} applied by the real engine`, () => {
    let h: Harness;
    const schema = appTables[organization];
    beforeAll(async () => {
      h = await createHarness(`import-${organization}`, readFileSync(join(root, file), "utf8"));
      await h.stack.up();
      await h.query(`SET ROLE ${schema}__app`);
      await h.query(`CREATE TABLE ${schema}.orders (id int PRIMARY KEY, item text)`);
      await h.query(`INSERT INTO ${schema}.orders VALUES (1, 'sourdough'), (2, 'croissant')`);
      await h.query("RESET ROLE");
    });
    afterAll(async () => { await h?.dispose(); });

    it("writes a declaration whose up changes nothing, replaces nothing, deletes nothing, and keeps the app's data", async () => {
      const env = { PGPASSWORD: h.server.password };
      const url = `postgres://${h.server.user}@${h.server.host}:${h.server.port}/${h.server.database}`;
      const imported = await cli(["import", "--database-url", url, "--organization", organization], env);
      expect(imported.stderr).toBe("");
      expect(imported.code).toBe(0);
      await h.writeDeclaration(imported.stdout);
      expect(await cli(["validate", h.declaration], env)).toMatchObject({ code: 0 });
      const audit = await cli(["audit", "--declaration", h.declaration, "--database-url", url], env);
      expect(audit.stdout).toMatch(/^audit of .*: clean(?: \([^)]*\))?$/m); // server warnings (no TLS, ...) may follow
      expect(audit.code).toBe(0);
      expect(await h.plannedChanges()).toEqual([]);
      const ops: string[] = [];
      const up = await h.stack.up({ onEvent: (e) => { const op = e.resourcePreEvent?.metadata.op; if (op) ops.push(op); } });
      expect(Object.keys(up.summary.resourceChanges ?? {})).toEqual(["same"]);
      expect(ops.length).toBeGreaterThan(0);
      expect(ops.filter((op) => op !== "same")).toEqual([]);
      expect(await h.query(`SELECT item FROM ${schema}.orders ORDER BY id`)).toEqual([{ item: "sourdough" }, { item: "croissant" }]);
      expect(await h.query(`SELECT pg_catalog.has_table_privilege('${schema}__app', '${schema}.orders', 'SELECT') AS ok`)).toEqual([{ ok: true }]);
      expect(await readFile(h.declaration, "utf8")).toContain("# credentials not imported");
    });
  });
}
