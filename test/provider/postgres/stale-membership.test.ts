// A PostgreSQL backend can keep a stale list of the admin's role memberships (the race in
// roles_is_member_of, explained at inTransaction in provider/postgres/client.ts): found by the
// stacks bench as "permission denied for schema" on a workspace whose boundary committed while
// the denied session was busy. Here the race is run with the pool's own session on one side and a
// plain session on the other, in boundary-like and credentials-like transactions, until the
// pool's session is stale (about one round in ten; the test fails if none is within the cap);
// then inTransaction must get through where that session alone is denied, and leave it out of
// the pool. A genuine denial must still fail, with the server's message, after one retry.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAdminServer } from "./admin-server.ts";
import { inTransaction, INSUFFICIENT_PRIVILEGE, type PgConnection, type Sql } from "../../../provider/postgres/client.ts";
import { boundaryLike as boundary, createKeys, credentialsLike as credentials, membershipView as viewOf } from "../../../bench/stale-membership-race.ts";

const MAX_ROUNDS = 200;
const MAX_MS = 20_000;

let server: Awaited<ReturnType<typeof startAdminServer>>, connection: PgConnection;
const plain: pg.Client[] = [];

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ ...connection });
  await client.connect();
  plain.push(client);
  return client;
}

beforeAll(async () => {
  server = await startAdminServer("stale-membership");
  ({ connection } = server);
  const setup = await connect();
  await createKeys(setup);
}, 120_000);
afterAll(async () => {
  for (const client of plain) await client.end().catch(() => {});
  await server?.stop();
});

const pidOf = async (sql: Sql) => (await sql.query("SELECT pg_catalog.pg_backend_pid() AS pid")).rows[0].pid as number;

async function gone(pid: number): Promise<boolean> {
  const watcher = await connect();
  for (let i = 0; i < 50; i++) {
    if ((await watcher.query("SELECT FROM pg_catalog.pg_stat_activity WHERE pid = $1", [pid])).rowCount === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/**
 * Runs the race until the pool's session is stale on a workspace's schema: the session denies
 * what the catalog grants and a new session is allowed. Returns that session's pid and schema.
 */
async function staleSession(): Promise<{ pid: number; schema: string; rounds: number }> {
  const other = await connect();
  const started = Date.now();
  for (let k = 0; k < MAX_ROUNDS && Date.now() - started < MAX_MS; k++) {
    const a = `a${k}`, b = `b${k}`;
    // Both at once; whichever takes the key second waits for the first to commit.
    const second = (async () => {
      await other.query("BEGIN");
      await boundary(other, b);
      await other.query("COMMIT");
    })();
    // Calls one after another: the pool hands out the one session it has each time.
    const pid = await inTransaction(connection, async (sql) => { await boundary(sql, a); return pidOf(sql); });
    // The pool's session busy with its own workspace while the other boundary commits.
    const until = Date.now() + 30;
    while (Date.now() < until) await inTransaction(connection, (sql) => credentials(sql, a));
    await second;
    const seen = await inTransaction(connection, (sql) => viewOf(sql, b));
    if (seen.pid !== pid || seen.usage) continue;
    expect(seen.granted).toBe(true);
    expect((await viewOf(other, b)).usage).toBe(true);
    return { pid, schema: b, rounds: k + 1 };
  }
  throw new Error(`no stale session in ${MAX_ROUNDS} rounds or ${MAX_MS} ms: the race did not reproduce, so nothing was shown`);
}

describe("a pooled session with a stale view of the admin's memberships", () => {
  it("is denied where the catalog grants; the transaction runs again on a new session and the stale one leaves the pool", async () => {
    const stale = await staleSession();
    const attempts: { pid: number; code?: string; message?: string }[] = [];
    await inTransaction(connection, async (sql) => {
      const pid = await pidOf(sql);
      try {
        await credentials(sql, stale.schema);
        attempts.push({ pid });
      } catch (error) {
        attempts.push({ pid, code: (error as { code?: string }).code, message: (error as Error).message });
        throw error;
      }
    });
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toEqual({ pid: stale.pid, code: INSUFFICIENT_PRIVILEGE, message: `permission denied for schema ${stale.schema}` });
    expect(attempts[1]!.pid).not.toBe(stale.pid);
    expect(attempts[1]!.code).toBeUndefined();
    // The stale session was closed, not put back, and the one-off session ended too.
    expect(await gone(stale.pid)).toBe(true);
    expect(await gone(attempts[1]!.pid)).toBe(true);
    const next = await inTransaction(connection, (sql) => viewOf(sql, stale.schema));
    expect(next.pid).not.toBe(stale.pid);
    expect(next.usage).toBe(true);
  }, 60_000);

  it("fails a genuine denial once retried, with the server's message", async () => {
    const pids: number[] = [];
    const denied = inTransaction(connection, async (sql) => {
      pids.push(await pidOf(sql));
      await sql.query("SELECT count(*) FROM pg_catalog.pg_authid");
    });
    await expect(denied).rejects.toThrow(/^permission denied for table pg_authid$/);
    await expect(denied).rejects.toMatchObject({ code: INSUFFICIENT_PRIVILEGE });
    expect(pids).toHaveLength(2);
    expect(pids[1]).not.toBe(pids[0]);
    expect(await gone(pids[0]!)).toBe(true);
    expect(await gone(pids[1]!)).toBe(true);
  }, 30_000);
});
