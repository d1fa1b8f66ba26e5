// The diff's batched crossing check (provider/postgres/crossings-batch.ts) against the one it
// replaces, crossingSignals per workspace, on a real PostgreSQL as the non-superuser admin: the
// attack shapes the take-back tests plant (grants to PUBLIC and to other workspaces on procedures,
// columns, types, domains, sequences, aggregates, views, large objects, foreign servers, default
// privileges; memberships; database privileges; a large object in another database), several
// workspaces at once, objects in one workspace's schema owned by another's role, a workspace that
// does not exist. Every workspace's batched result must be its single result, line for line.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../../cli/local/postgres.ts";
import { freePort } from "../../cli/local/net.ts";
import { generateDataKey } from "../../components/credentials-crypto.ts";
import { workspaceGrants } from "../../components/grants.ts";
import { workspaceNames } from "../../components/naming.ts";
import { inTransaction, type PgConnection } from "../../provider/postgres/client.ts";
import { batchCrossingSignals, checkTogether, crossingSignalsBatched, type CrossingCheck } from "../../provider/postgres/crossings-batch.ts";
import { crossingSignals } from "../../provider/postgres/crossings-sql.ts";
import { boundaryKind } from "../../provider/resources/boundary.ts";

let dir: string, port: number, admin: LocalPostgres, server: LocalPostgres, connection: PgConnection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tenancy-crossings-batch-"));
  await chmod(dir, 0o755);
  port = await freePort();
  server = await ensureLocalPostgres({ root: dir, port });
  admin = await ensureAdminRole(dir, server);
  connection = { host: admin.host, port: admin.port, user: admin.user, password: admin.password, database: admin.database };
  const masterKey = await generateDataKey();
  for (const ws of ["a", "b", "c", "d", "e"]) {
    const names = workspaceNames("acme", ws);
    await boundaryKind.create({ organization: "acme", workspace: ws, names, database: admin.database, passwordGeneration: "1",
      grants: Object.fromEntries(workspaceGrants(names, admin.database).map(({ id, ...g }) => [id, g])) }, { connection, masterKey });
  }
  await plant();
});
afterAll(async () => {
  await stopLocalPostgres({ root: dir, port });
  await rm(dir, { recursive: true, force: true });
});

/** As the superuser, in `database`. */
async function su(sql: string, database = admin.database): Promise<void> {
  const c = new pg.Client({ host: admin.host, port: admin.port, user: server.user, password: server.password, database });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}

/** Every shape at once, spread over a, b and c; d stays clean, e is only granted things. */
async function plant(): Promise<void> {
  await su("CREATE FOREIGN DATA WRAPPER w; GRANT USAGE ON FOREIGN DATA WRAPPER w TO acme__a__app; CREATE SERVER remote FOREIGN DATA WRAPPER w; ALTER SERVER remote OWNER TO acme__a__app");
  await su(`SET ROLE acme__a__app;
    CREATE PROCEDURE acme__a.p() LANGUAGE sql AS $$SELECT 1$$; GRANT EXECUTE ON PROCEDURE acme__a.p() TO PUBLIC;
    CREATE TABLE acme__a.t (c int, "Odd col" text); GRANT SELECT (c, "Odd col") ON acme__a.t TO acme__b__app; GRANT UPDATE (c) ON acme__a.t TO PUBLIC;
    CREATE TYPE acme__a."we ird" AS (x int); GRANT USAGE ON TYPE acme__a."we ird" TO acme__b__ro;
    CREATE DOMAIN acme__a.d AS int; GRANT USAGE ON DOMAIN acme__a.d TO PUBLIC;
    CREATE SEQUENCE acme__a.sq; GRANT USAGE, SELECT ON SEQUENCE acme__a.sq TO PUBLIC;
    CREATE AGGREGATE acme__a.total(int) (sfunc = int4pl, stype = int); GRANT EXECUTE ON FUNCTION acme__a.total(int) TO acme__b__app;
    SELECT lo_create(5555); GRANT SELECT ON LARGE OBJECT 5555 TO PUBLIC;
    CREATE VIEW acme__a.v AS SELECT 1 AS x; GRANT SELECT ON acme__a.v TO PUBLIC;
    CREATE MATERIALIZED VIEW acme__a.mv AS SELECT 1 AS x; GRANT SELECT ON acme__a.mv TO acme__b__ro;
    GRANT USAGE ON FOREIGN SERVER remote TO acme__b__app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA acme__a GRANT SELECT ON TABLES TO acme__b__app;
    ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO acme__e__app;
    RESET ROLE`);
  // A table in a's schema owned by b's role: in both scopes, found for each, once.
  await su(`CREATE TABLE acme__a.shared (x int); ALTER TABLE acme__a.shared OWNER TO acme__b__app; GRANT SELECT ON acme__a.shared TO PUBLIC, acme__e__ro;
    GRANT USAGE ON SCHEMA acme__a TO PUBLIC`);
  // Memberships: out of the workspace, into it, the read-only role to a person (allowed) and to
  // another workspace's role (a crossing); a database privilege beyond CONNECT.
  await su(`CREATE ROLE outsider NOLOGIN; CREATE ROLE person NOLOGIN;
    GRANT outsider TO acme__b__app; GRANT acme__b__owner TO acme__c__ro; GRANT acme__b__ro TO person; GRANT acme__b__ro TO acme__c__app`);
  await su(`GRANT TEMPORARY, CREATE ON DATABASE ${admin.database} TO acme__c__app`);
  // Another database: a large object c's role owns there, granted to e's (pg_shdepend).
  await su("SELECT lo_create(424242); ALTER LARGE OBJECT 424242 OWNER TO acme__c__app; GRANT SELECT ON LARGE OBJECT 424242 TO acme__e__app", "postgres");
}

const check = (ws: string, database = admin.database): CrossingCheck => ({ names: workspaceNames("acme", ws), database });
const checks = () => [check("a"), check("b"), check("c"), check("d"), check("e"), check("missing"), check("c", "postgres"), check("a")];
const single = (c: CrossingCheck) => inTransaction(connection, (sql) => crossingSignals(sql, c.names, c.database)).then((l) => [...l].sort());

describe("the batched crossing check", () => {
  it("finds, for each workspace of a batch, exactly what the check of that workspace alone finds", async () => {
    const CHECKS = checks();
    const alone = await Promise.all(CHECKS.map(single));
    // The plants are there to be found: the comparison is not between two empty lists.
    expect(alone[0]!.length).toBeGreaterThanOrEqual(14);
    expect(alone[0]).toEqual(expect.arrayContaining([
      `${admin.database}: routine acme__a.p() PUBLIC EXECUTE`, `${admin.database}: column acme__a.t."Odd col" acme__b__app SELECT`,
      `${admin.database}: column acme__a.t.c PUBLIC UPDATE`, `${admin.database}: large-object 5555 PUBLIC SELECT`,
      `${admin.database}: foreign-server remote acme__b__app USAGE`, `${admin.database}: table acme__a.shared PUBLIC SELECT`,
      `${admin.database}: schema acme__a PUBLIC USAGE`,
    ]));
    expect(alone[1]).toEqual(expect.arrayContaining([`${admin.database}: member-of acme__b__app outsider membership`, `${admin.database}: has-member acme__b__owner acme__c__ro membership`,
      `${admin.database}: has-member acme__b__ro acme__c__app membership`, `${admin.database}: table acme__a.shared acme__e__ro SELECT`]));
    expect(alone[1]!.some((l) => l.includes("person"))).toBe(false);
    expect(alone[2]).toEqual(expect.arrayContaining([`${admin.database}: database ${admin.database} acme__c__app CREATE`, `${admin.database}: database ${admin.database} acme__c__app TEMPORARY`,
      "postgres: objects owned by a role of acme__c carry another role's privileges"]));
    expect(alone[3]).toEqual([]);
    expect(alone[5]).toEqual([]);

    const batched = await inTransaction(connection, (sql) => batchCrossingSignals(sql, CHECKS));
    expect(batched.map((l) => [...l].sort())).toEqual(alone);
    // A batch large enough to be planned for its own arrays, six times: past the five runs after
    // which the server would otherwise consider a generic plan for the named statement.
    const many = Array.from({ length: 5 }, () => CHECKS).flat();
    for (let run = 0; run < 6; run++) expect((await checkTogether(connection, many)).map((l) => [...l].sort())).toEqual(Array.from({ length: 5 }, () => alone).flat());
    // And through the batcher, every call of the moment at once, as the engine's diffs arrive.
    expect((await Promise.all(CHECKS.map((c) => crossingSignalsBatched(connection, c)))).map((l) => [...l].sort())).toEqual(alone);
  });

  it("fails only the workspace whose check fails; the others of its batch get their own results", async () => {
    const bad: CrossingCheck = { names: { ...workspaceNames("acme", "b"), schema: "acme__b\u0000" }, database: admin.database };
    const [a, failed, c] = await Promise.allSettled([crossingSignalsBatched(connection, check("a")), crossingSignalsBatched(connection, bad), crossingSignalsBatched(connection, check("c"))]);
    expect(failed).toMatchObject({ status: "rejected", reason: { message: expect.stringMatching(/invalid byte sequence|0x00/) } });
    expect(a.status === "fulfilled" && [...a.value].sort()).toEqual(await single(check("a")));
    expect(c.status === "fulfilled" && [...c.value].sort()).toEqual(await single(check("c")));
  });
});
