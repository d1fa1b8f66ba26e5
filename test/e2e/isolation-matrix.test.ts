// Issue 8, item 8: the isolation matrix at 10 workspaces, on the real engine and a real server.
// Every workspace's app role and read-only role tries to read, write, create, alter, grant and
// SET ROLE into every other workspace and into the control plane: every attempt must be denied
// with SQLSTATE 42501 (insufficient_privilege). Anything else, success included, is reported.
// Its own workspace must work: the app creates, writes and reads; the read-only role reads.
//
// How each role is driven, as faithfully as PostgreSQL allows:
// - the app role is LOGIN: it connects with the password from the stack outputs;
// - the read-only role is NOLOGIN, so it is used the way it is meant to be (a reporting or
//   support login that holds it): a throwaway LOGIN role, made by the superuser, is granted
//   membership in it and no other privilege, connects, and runs `SET ROLE <ro>` first. Every
//   check then runs with current_user = the read-only role, and SET ROLE attempts are checked
//   against that login's memberships, exactly as for a person given the role. (Giving the
//   read-only role LOGIN instead would change the role under test.)
// Each attempt runs in a transaction that is rolled back, so one that succeeds changes nothing
// for the next; the catalog checker runs afterwards anyway.
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boundaryOf, outsideFindings, type Boundary, type Sql } from "./attack-catalog.ts";
import { ADMIN, CONTROL } from "./attack-plant.ts";
import { appPasswords, attempt, declaration, serverOf, type Server } from "./attack-harness.ts";
import { createHarness, type Harness } from "./harness.ts";
import { CREDENTIALS_TABLE } from "../../components/naming.ts";

const ORG = "acme";
const SLUGS = Array.from({ length: 10 }, (_, i) => `ws${String(i + 1).padStart(2, "0")}`);
const B: Record<string, Boundary> = Object.fromEntries(SLUGS.map((s) => [s, boundaryOf(ORG, s)]));
const id = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** What an actor of workspace `self` (current_user `actor`) tries against workspace `t`. */
function crossAttempts(self: Boundary, actor: string, t: Boundary): string[] {
  const s = id(t.schema);
  const notes = `${s}.notes`;
  const creds = `${s}.${id(CREDENTIALS_TABLE)}`;
  return [
    // read
    `SELECT * FROM ${notes}`, `TABLE ${creds}`, `SELECT ${s}.answer()`, `SELECT count(*) FROM ${s}.notes_view`,
    // write
    `INSERT INTO ${notes} VALUES (99, 'x')`, `UPDATE ${notes} SET body = 'x'`, `DELETE FROM ${notes}`, `TRUNCATE ${notes}`,
    `INSERT INTO ${creds} (slug) VALUES ('x')`, `LOCK TABLE ${notes} IN ACCESS EXCLUSIVE MODE`,
    // create
    `CREATE TABLE ${s}.stolen (x integer)`, `CREATE FUNCTION ${s}.planted() RETURNS integer LANGUAGE sql AS 'SELECT 1'`,
    `CREATE VIEW ${s}.planted_view AS SELECT 1 AS x`,
    `CREATE TRIGGER planted BEFORE INSERT ON ${notes} FOR EACH ROW EXECUTE FUNCTION ${id(self.schema)}.noop_trigger()`,
    // alter and drop
    `ALTER TABLE ${notes} ADD COLUMN planted integer`, `DROP TABLE ${notes}`, `ALTER SCHEMA ${s} OWNER TO ${id(actor)}`, `DROP SCHEMA ${s} CASCADE`,
    // grant
    `GRANT USAGE ON SCHEMA ${s} TO ${id(actor)}`, `GRANT SELECT ON ${notes} TO ${id(actor)}`,
    `GRANT ${id(t.app)} TO ${id(actor)}`, `GRANT ${id(t.owner)} TO ${id(actor)}`, `GRANT ${id(actor)} TO ${id(t.app)}`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${id(t.owner)} IN SCHEMA ${s} GRANT SELECT ON TABLES TO ${id(actor)}`,
    // become
    `SET ROLE ${id(t.owner)}`, `SET ROLE ${id(t.app)}`, `SET ROLE ${id(t.readonly)}`, `SET SESSION AUTHORIZATION ${id(t.app)}`,
  ];
}

/** What every actor tries against the control plane and the server itself. */
function controlAttempts(actor: string, relations: readonly string[], database: string): string[] {
  return [
    ...relations.flatMap((r) => [`SELECT * FROM ${r}`, `INSERT INTO ${r} DEFAULT VALUES`, `DELETE FROM ${r}`]),
    `CREATE TABLE ${CONTROL}.planted (x integer)`, `GRANT USAGE ON SCHEMA ${CONTROL} TO ${id(actor)}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA ${CONTROL} TO ${id(actor)}`, `DROP SCHEMA ${CONTROL} CASCADE`,
    `SET ROLE ${ADMIN}`, `SET ROLE postgres`, `GRANT ${ADMIN} TO ${id(actor)}`, `SET SESSION AUTHORIZATION ${ADMIN}`,
    `CREATE SCHEMA planted`, `ALTER DATABASE ${id(database)} SET search_path = planted`, `ALTER ROLE ${ADMIN} SET search_path = planted`,
    `ALTER ROLE ${id(actor)} CREATEROLE`, `GRANT pg_read_all_data TO ${id(actor)}`,
  ];
}

describe("isolation matrix: 10 workspaces, every app and read-only role against every other", () => {
  let h: Harness;
  let server: Server;
  let sql: Sql;
  const actors: { slug: string; kind: "app" | "ro"; role: string; client: pg.Client }[] = [];
  const denied: Record<string, number> = { app: 0, ro: 0 };
  const allowed: string[] = [];
  let relations: string[] = [];

  beforeAll(async () => {
    h = await createHarness("isolation-matrix", declaration({
      org: ORG, workspaces: SLUGS,
      integrations: Object.fromEntries(SLUGS.map((s) => [s, [["crm", "hubspot", `${s}CrmToken`]]])),
    }));
    server = await serverOf(h);
    sql = async (text, params) => (await server.su.query(text, params)).rows;
  });

  afterAll(async () => {
    const total = denied.app! + denied.ro!;
    console.log(`isolation: ${SLUGS.length} workspaces, ${total.toLocaleString("en")} attempts denied (app ${denied.app}, read-only ${denied.ro}), ${allowed.length} allowed`);
    await server?.close();
    await h?.dispose();
  });

  it("applies 10 workspaces, each with a sealed credential", async () => {
    const result = await h.stack.up();
    expect(result.summary.result).toBe("succeeded");
    const tables = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $1 AND n.nspname = ANY($2)`, [CREDENTIALS_TABLE, SLUGS.map((s) => B[s]!.schema)]);
    expect(tables).toEqual([{ n: 10 }]);
    relations = (await sql<{ r: string }>(`SELECT format('%I.%I', n.nspname, c.relname) AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p') ORDER BY 1`, [CONTROL])).map((r) => r.r);
    expect(relations.length).toBeGreaterThan(5);
  });

  it("lets each app create, write and read in its own schema, and its read-only role read there", async () => {
    const passwords = await appPasswords(h);
    for (const slug of SLUGS) {
      const b = B[slug]!;
      const app = await server.login(b.app, passwords[slug]!);
      const s = id(b.schema);
      await app.query(`CREATE TABLE ${s}.notes (id integer PRIMARY KEY, body text)`);
      await app.query(`INSERT INTO ${s}.notes VALUES (1, $1)`, [`note of ${slug}`]);
      expect((await app.query(`SELECT body FROM ${s}.notes`)).rows).toEqual([{ body: `note of ${slug}` }]);
      await app.query(`CREATE VIEW ${s}.notes_view AS SELECT * FROM ${s}.notes`);
      await app.query(`CREATE FUNCTION ${s}.answer() RETURNS integer LANGUAGE sql AS 'SELECT 42'`);
      await app.query(`CREATE FUNCTION ${s}.noop_trigger() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'`);
      expect((await app.query(`SELECT ${s}.answer() AS a`)).rows).toEqual([{ a: 42 }]);
      actors.push({ slug, kind: "app", role: b.app, client: app });

      const probe = `probe_${b.readonly}`;
      await server.su.query(`CREATE ROLE ${id(probe)} LOGIN PASSWORD 'probe-password-not-secret'`);
      await server.su.query(`GRANT ${id(b.readonly)} TO ${id(probe)} WITH INHERIT TRUE, SET TRUE`);
      const ro = await server.login(probe, "probe-password-not-secret");
      await ro.query(`SET ROLE ${id(b.readonly)}`);
      expect((await ro.query("SELECT current_user AS u")).rows).toEqual([{ u: b.readonly }]);
      expect((await ro.query(`SELECT body FROM ${s}.notes_view`)).rows).toEqual([{ body: `note of ${slug}` }]);
      expect((await ro.query(`SELECT body FROM ${s}.notes`)).rows).toEqual([{ body: `note of ${slug}` }]);
      expect(await attempt(ro, `INSERT INTO ${s}.notes VALUES (2, 'x')`)).toBe("42501");
      actors.push({ slug, kind: "ro", role: b.readonly, client: ro });
    }
  });

  it("denies every app and read-only role everything in every other workspace and the control plane", async () => {
    const database = h.server.database;
    for (const actor of actors) {
      const self = B[actor.slug]!;
      const tries = [
        ...SLUGS.filter((t) => t !== actor.slug).flatMap((t) => crossAttempts(self, actor.role, B[t]!).map((s) => [t, s] as const)),
        ...controlAttempts(actor.role, relations, database).map((s) => [CONTROL, s] as const),
      ];
      for (const [target, statement] of tries) {
        const code = await attempt(actor.client, statement);
        if (code === "42501") denied[actor.kind]!++;
        else allowed.push(`${actor.role} -> ${target}: ${statement} (${code === "ok" ? "succeeded" : `SQLSTATE ${code}, not a privilege denial`})`);
      }
    }
    expect(allowed).toEqual([]);
    expect(denied.app! + denied.ro!).toBeGreaterThan(SLUGS.length * 2 * (SLUGS.length - 1) * 20);
  });

  it("leaves no role of any workspace with anything outside it (catalog check)", async () => {
    const findings: string[] = [];
    for (const slug of SLUGS) findings.push(...(await outsideFindings(sql, B[slug]!, h.server.database)));
    expect(findings).toEqual([]);
  });
});
