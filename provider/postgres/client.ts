// Connections of the provider process. Every session pins `search_path` to pg_catalog (then
// pg_temp, listed last so it is never searched first), so no name the toolkit writes can resolve
// to a function, operator or table a workspace planted in its own schema or in pg_temp.
import pg from "pg";

export interface PgConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export type Sql = Pick<pg.PoolClient, "query" | "escapeIdentifier" | "escapeLiteral">;

/** Connections per target; the engine applies many resources at once, a server allows ~100. */
export const POOL_SIZE = 4;
export const PINNED_SEARCH_PATH = "pg_catalog, pg_temp";

const pools = new Map<string, pg.Pool>();

function poolFor(c: PgConnection): pg.Pool {
  const key = JSON.stringify([c.host, Number(c.port), c.database, c.user, c.password]);
  let pool = pools.get(key);
  if (!pool) {
    pool = new pg.Pool({
      host: c.host, port: Number(c.port), user: c.user, password: c.password, database: c.database,
      max: POOL_SIZE, idleTimeoutMillis: 2_000, connectionTimeoutMillis: 10_000, allowExitOnIdle: true,
      application_name: "tenancy-as-code", options: `-c search_path=${PINNED_SEARCH_PATH.replace(" ", "")}`,
    });
    // An idle client dropped by the server must not crash the provider process.
    pool.on("error", () => {});
    pools.set(key, pool);
  }
  return pool;
}

/** Runs `fn` in one transaction with the pinned search_path: all of it or nothing. */
export async function inTransaction<T>(connection: PgConnection, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const client = await poolFor(connection).connect().catch((error: Error) => {
    throw new Error(`cannot connect to PostgreSQL at ${connection.host}:${connection.port} as ${connection.user}: ${error.message}`);
  });
  // A connection the server drops mid-transaction ("terminated unexpectedly") is reported by the
  // query in flight; without a listener the client's 'error' event would also crash the plugin
  // with a stack trace the engine prints.
  const ignore = () => {};
  client.on("error", ignore);
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    // Again per transaction: a session setting could have been changed by an earlier statement.
    await client.query(`SET LOCAL search_path TO ${PINNED_SEARCH_PATH}`);
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    // A client whose ROLLBACK fails is gone (server down, connection cut): not back to the pool.
    await client.query("ROLLBACK").catch((e: Error) => { broken = e; });
    throw error;
  } finally {
    client.off("error", ignore);
    client.release(broken);
  }
}

/** A transaction-scoped advisory lock: work on one object takes turns across processes. */
export async function lock(sql: Sql, key: string): Promise<void> {
  await sql.query("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext($1))", [`tenancy:${key}`]);
}

/** Runs `fn` as `role` (SET LOCAL ROLE) and returns to the admin afterwards. */
export async function asRole<T>(sql: Sql, role: string, fn: () => Promise<T>): Promise<T> {
  await sql.query(`SET LOCAL ROLE ${sql.escapeIdentifier(role)}`);
  // On an error the transaction rolls back, and SET LOCAL with it.
  const result = await fn();
  await sql.query("RESET ROLE");
  return result;
}

/** Runs `fn` with one connected client outside any pool (the CLI's one-off administration). */
export async function withClient<T>(connection: PgConnection, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 10_000, application_name: "tenancy-as-code", options: `-c search_path=${PINNED_SEARCH_PATH.replace(" ", "")}` });
  client.on("error", () => {}); // reported by the query in flight (see inTransaction)
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Same server and database: a different admin user still manages the same objects. */
export function sameServer(a: PgConnection, b: PgConnection): boolean {
  return a.host === b.host && Number(a.port) === Number(b.port) && a.database === b.database;
}
