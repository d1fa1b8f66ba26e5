// The admin's database key is a row lock (provider/postgres/locks.ts), and PostgreSQL frees a row
// lock for anyone who looks as soon as its holder leaves the proc array, before the holder has
// announced its catalog changes (the race explained at lock()). A session that takes the key in
// that moment still has the database's catalog row as it was in its syscache, and its GRANT ...
// ON DATABASE fails with "tuple concurrently updated": found by the stacks bench
// (bench/stacks.bench.ts) in about 3 runs of 5. Here one session converges under the key with
// many catalog changes before its database grant (so announcing them takes a while, as a
// boundary's do), and takers try the key every millisecond, each with the database's row fresh
// in its syscache, as a pooled provider session has it. lock() must hand the key over only once
// the last holder has ended: no grant fails, and the test fails if no taker came in that moment
// (lock() says "waited"), since then nothing was shown. And every change of that row takes the
// key, a boundary's take-back of a database privilege included.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAdminServer } from "./admin-server.ts";
import { workspaceGrants } from "../../../components/grants.ts";
import { workspaceNames } from "../../../components/naming.ts";
import { convergeBoundary } from "../../../provider/postgres/boundary-sql.ts";
import { inTransaction, PINNED_SEARCH_PATH, type PgConnection } from "../../../provider/postgres/client.ts";
import { apply, type Grant } from "../../../provider/postgres/grants-sql.ts";
import { lock } from "../../../provider/postgres/locks.ts";

const TAKERS = 6;
/** Columns of the table the holder creates before its grant: about 3,000 invalidation messages to send at commit. */
const COLUMNS = 1_500;
const MAX_ROUNDS = 400;
const MAX_MS = 40_000;
/** Enough takers that came in while the holder was ending to call it shown. */
const ENOUGH = 5;

let server: Awaited<ReturnType<typeof startAdminServer>>, connection: PgConnection;
const clients: pg.Client[] = [];

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ ...connection, options: `-c search_path=${PINNED_SEARCH_PATH.replace(" ", "")}` });
  await client.connect();
  clients.push(client);
  return client;
}

const connectOn = (role: string, action: "grant" | "revoke" = "grant"): Grant =>
  ({ action, role, on: { kind: "database", database: connection.database }, privileges: ["CONNECT"] });

beforeAll(async () => {
  server = await startAdminServer("key-handoff");
  ({ connection } = server);
  const setup = await connect();
  await setup.query("CREATE SCHEMA handoff");
  for (let i = 0; i <= TAKERS; i++) await setup.query(`CREATE ROLE handoff_${i} NOLOGIN`);
  // The lock table exists before the race: its creation would hold every taker up on its own.
  await setup.query("BEGIN");
  await lock(setup, `database:${connection.database}`);
  await setup.query("COMMIT");
}, 120_000);
afterAll(async () => {
  for (const client of clients) await client.end().catch(() => {});
  await server?.stop();
});

describe("the admin's database key", () => {
  it("is handed over only once its last holder has ended: no grant on the database fails with 'tuple concurrently updated'", async () => {
    const key = `database:${connection.database}`;
    const holder = await connect();
    const takers = await Promise.all(Array.from({ length: TAKERS }, () => connect()));
    const failures: string[] = [];
    let waited = 0, taken = 0, rounds = 0, stop = false;
    const started = Date.now();

    const take = async (sql: pg.Client, role: string) => {
      while (!stop) {
        // The database's row into this session's syscache, as a boundary's otherDatabaseReach reads it.
        await sql.query("SELECT pg_catalog.has_database_privilege($1, 'CONNECT')", [connection.database]);
        await sql.query("BEGIN");
        await sql.query("SET LOCAL lock_timeout = 1");
        let handoff;
        try {
          handoff = await lock(sql, key);
        } catch {
          await sql.query("ROLLBACK");
          continue; // held: try again at once
        }
        taken++;
        if (handoff === "waited") waited++;
        try {
          await apply(sql, connectOn(role), "grant", ["CONNECT"]);
          await sql.query("COMMIT");
        } catch (error) {
          failures.push((error as Error).message);
          await sql.query("ROLLBACK");
        }
      }
    };
    const running = takers.map((sql, i) => take(sql, `handoff_${i + 1}`));

    const columns = Array.from({ length: COLUMNS }, (_, i) => `c${i} integer`).join(", ");
    try {
      for (; rounds < MAX_ROUNDS && Date.now() - started < MAX_MS && waited < ENOUGH && failures.length === 0; rounds++) {
        await holder.query("BEGIN");
        await lock(holder, key);
        await holder.query(`CREATE TABLE handoff.t${rounds} (${columns})`);
        const action = rounds % 2 === 0 ? "grant" : "revoke";
        await apply(holder, connectOn("handoff_0", action), action, ["CONNECT"]);
        await holder.query("COMMIT");
        await holder.query(`DROP TABLE handoff.t${rounds}`);
      }
    } finally {
      stop = true;
      await Promise.all(running);
    }

    expect(failures).toEqual([]);
    if (waited === 0) {
      throw new Error(`no taker came in while the key's last holder was still ending in ${rounds} rounds (${taken} takes, ${Date.now() - started} ms): the race did not reproduce, so nothing was shown`);
    }
    expect(taken).toBeGreaterThan(0);
  }, 90_000);

  it("is taken before a boundary's take-back revokes a privilege on the database (the same catalog row), not only for its grants", async () => {
    const n = workspaceNames("handoff", "crossed");
    const grants = Object.fromEntries(workspaceGrants(n, connection.database).map(({ id, ...g }) => [id, g]));
    const spec = { names: n, database: connection.database, appPassword: "handoff-app-password-0123456789", grants };
    await inTransaction(connection, (sql) => convergeBoundary(sql, spec));
    const holder = await connect();
    // A crossing to take back: the app role may make temporary tables in the database.
    await holder.query(`GRANT TEMPORARY ON DATABASE ${holder.escapeIdentifier(connection.database)} TO ${holder.escapeIdentifier(n.app)}`);
    await holder.query("BEGIN");
    await lock(holder, `database:${connection.database}`);
    // The boundary converges while the key is held: its take-back must wait for the key. Had it
    // revoked at once, its open transaction would hold the database's row, the holder's grant
    // below would wait for it, and it for the holder's key: a deadlock.
    const converging = inTransaction(connection, (sql) => convergeBoundary(sql, spec));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await apply(holder, connectOn("handoff_0"), "grant", ["CONNECT"]);
    await holder.query("COMMIT");
    const converged = await converging;
    expect(converged.notTakenBack).toEqual([]);
    // Granted to the role itself (PUBLIC's default TEMPORARY on this database is not the boundary's to take).
    const temporary = await holder.query(`SELECT x.privilege_type AS p FROM pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) x
      WHERE d.datname = $1 AND x.grantee = $2::pg_catalog.regrole ORDER BY 1`, [connection.database, n.app]);
    expect(temporary.rows.map((r) => r.p)).toEqual(["CONNECT"]);
  }, 60_000);
});
