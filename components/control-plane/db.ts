// Transactions for the control-plane providers. These run in the dynamic-provider process, where
// the engine may call create or update for hundreds of records at once: a small pool per target
// (kept on globalThis, since a serialised closure cannot carry one) caps the connections so a
// large tenancy does not exhaust the server's max_connections.
import pg, { type PoolClient } from "pg";
import type { PgConnection } from "../providers/connection.ts";

/** Connections per target and provider process; a server's default max_connections is 100. */
export const POOL_SIZE = 4;

export type Sql = Pick<PoolClient, "query" | "escapeIdentifier" | "escapeLiteral">;

async function poolFor(connection: PgConnection): Promise<pg.Pool> {
  const registry = ((globalThis as { __tenancyControlPools?: Map<string, pg.Pool> }).__tenancyControlPools ??= new Map());
  const key = JSON.stringify([connection.host, Number(connection.port), connection.database, connection.user, connection.password]);
  let pool = registry.get(key);
  if (!pool) {
    pool = new pg.Pool({
      host: connection.host, port: Number(connection.port), user: connection.user, password: connection.password, database: connection.database,
      max: POOL_SIZE, idleTimeoutMillis: 2_000, connectionTimeoutMillis: 10_000, allowExitOnIdle: true, application_name: "tenancy-as-code",
    });
    // An idle client dropped by the server must not crash the provider process.
    pool.on("error", () => {});
    registry.set(key, pool);
  }
  return pool;
}

/** Runs `fn` in one transaction: every record is written whole or not at all. */
export async function inTransaction<T>(connection: PgConnection, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const client = await (await poolFor(connection)).connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
