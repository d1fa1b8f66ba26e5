// The admin's serialisation keys (issue #16): one row per key in an admin-only table, locked
// FOR UPDATE until the transaction ends. Advisory keys served before, but any role can take any
// advisory key (they carry no privilege), so a workspace's app role could hold one of ours and
// jam every apply of the database. A row lock needs UPDATE on the table, and the table's schema
// grants nothing to anyone but its owner (the admin): a workspace role cannot lock its rows in any
// mode, cannot LOCK TABLE it, cannot even name it (no USAGE on the schema, so the name lookup
// fails before any lock is taken).
//
// Bootstrap: the table is created, once per database, by the first lock() that finds it missing,
// in that transaction, under the one advisory key left (LOCK_BOOTSTRAP_KEY) so two first runs do
// not race on CREATE SCHEMA. Every later run finds the table and takes rows only.
import { escapeText } from "../../components/escape.ts";
import { LOCK_NOT_AVAILABLE, type Sql } from "./client.ts";
import { describeHolders } from "./lock-waits.ts";

export const LOCK_SCHEMA = "tenancy_locks";
export const LOCK_TABLE = "keys";
const TABLE = `${LOCK_SCHEMA}.${LOCK_TABLE}`;
/** The only advisory key left: taken only while the lock table does not exist yet. */
export const LOCK_BOOTSTRAP_KEY = "tenancy:locks-bootstrap";

/** What the catalogs say of the lock table: owners, kind, grants to others, hooks (nulls: missing). */
async function tableFacts(sql: Sql) {
  return (await sql.query(`SELECT n.nspowner = u.oid AS schema_ours, c.relowner = u.oid AS table_ours, c.relkind AS kind,
      n.nspacl IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(n.nspacl) a WHERE a.grantee <> n.nspowner) AS schema_private,
      c.relacl IS NULL OR NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(c.relacl) a WHERE a.grantee <> c.relowner) AS table_private,
      c.relhastriggers OR c.relhasrules OR c.relrowsecurity AS hooked
    FROM pg_catalog.pg_roles u LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = $1
      LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = $2
    WHERE u.rolname = CURRENT_USER`, [LOCK_SCHEMA, LOCK_TABLE])).rows[0];
}

/** Creates the lock table when missing (in the caller's transaction); refuses one that is not the admin's own. */
async function ensureTable(sql: Sql): Promise<void> {
  let row = await tableFacts(sql);
  // A schema of that name someone else made is refused below, never created into.
  if (row?.schema_ours !== false && row?.table_ours === null) {
    // First run in this database: one creator at a time (the advisory wait is bounded by lock_timeout).
    await sql.query("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext($1))", [LOCK_BOOTSTRAP_KEY]);
    await sql.query(`CREATE SCHEMA IF NOT EXISTS ${LOCK_SCHEMA}`);
    await sql.query(`REVOKE ALL ON SCHEMA ${LOCK_SCHEMA} FROM PUBLIC`);
    await sql.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (key text PRIMARY KEY)`);
    await sql.query(`REVOKE ALL ON TABLE ${TABLE} FROM PUBLIC`);
    // Read again, not assumed: a schema that existed already keeps whatever it granted.
    row = await tableFacts(sql);
  }
  const problems = [
    row?.schema_ours === false && `schema ${LOCK_SCHEMA} is not owned by the admin`,
    row?.table_ours === false && `table ${TABLE} is not owned by the admin`,
    row?.kind != null && row.kind !== "r" && `${TABLE} is not a plain table`,
    row?.schema_private === false && `schema ${LOCK_SCHEMA} grants privileges to other roles`,
    row?.table_private === false && `table ${TABLE} grants privileges to other roles`,
    row?.hooked && `table ${TABLE} has triggers, rules or row security`,
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new Error(`refusing to serialise on ${TABLE}: ${problems.join("; ")}; only the admin may hold its locks (drop it and apply again, the toolkit recreates it); nothing was applied`);
  }
}

/**
 * Takes the admin's key `key` until the transaction ends: work on one object takes turns across
 * processes. The wait is bounded by the session's lock_timeout; it runs in a savepoint so that on
 * timeout the transaction can still read who holds the row (its xmax is the holder's transaction)
 * and fail in one line naming that session, with nothing of the transaction applied.
 *
 * When it returns, the key's previous holder has ended completely, its catalog changes announced
 * to every session: a row lock alone does not promise that. PostgreSQL's CommitTransaction
 * (src/backend/access/transam/xact.c) takes the transaction out of the proc array
 * (ProcArrayEndTransaction), from which moment its row locks are free to anyone who looks, and
 * only then sends its invalidation messages (AtEOXact_Inval), before releasing its heavyweight
 * locks. A session that looks at the key's row in between takes it while the holder's changes to
 * the catalog are committed but not yet announced, and its own syscache still holds the catalog
 * rows as they were: its GRANT CONNECT ON DATABASE updates the database's row from that stale
 * copy and fails with "tuple concurrently updated" (SearchSysCacheLocked1 in syscache.c accepts
 * invalidations first, but there are none to accept yet). A session that queued on the row waits
 * on the holder's transaction lock instead, released after the messages, and is safe.
 *
 * So each holder stamps the row (an update in the top-level transaction: the row's xmin becomes
 * its transaction id), and the next holder, having taken the row, waits until that transaction's
 * lock is gone from pg_locks: by then its invalidation messages are queued, and the next catalog
 * update reads the row afresh. test/provider/postgres/key-handoff.test.ts runs the race. Take keys
 * in READ COMMITTED transactions (as every caller does): under REPEATABLE READ the stamp of a
 * holder that committed after the snapshot is a serialization failure.
 */
export async function lock(sql: Sql, key: string): Promise<Handoff> {
  const full = `tenancy:${key}`;
  await ensureTable(sql);
  await sql.query("SAVEPOINT tenancy_lock");
  let previous: string | undefined;
  try {
    await sql.query(`INSERT INTO ${TABLE} (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, [full]);
    // The row as its last holder left it: xmin is that holder's transaction (its stamp).
    previous = (await sql.query(`SELECT xmin::text AS previous FROM ${TABLE} WHERE key = $1 FOR UPDATE`, [full])).rows[0]?.previous;
  } catch (error) {
    if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    await sql.query("ROLLBACK TO SAVEPOINT tenancy_lock");
    throw new Error(await heldMessage(sql, full));
  }
  await sql.query("RELEASE SAVEPOINT tenancy_lock");
  // Stamped after the savepoint, so xmin is the top-level transaction, which pg_locks shows.
  const stamped = await sql.query(`WITH stamp AS (UPDATE ${TABLE} SET key = key WHERE key = $2 RETURNING 1)
    SELECT ${STILL_ENDING} AS ending FROM stamp`, [previous ?? "0", full]);
  if (!stamped.rows[0]?.ending) return "clear";
  await previousEnded(sql, full, previous!);
  return "waited";
}

/**
 * How lock() found the key's last holder: ended ("clear"), or committed but still ending, so
 * that lock() waited for it ("waited"; the race described at lock(), which its test counts).
 */
export type Handoff = "clear" | "waited";

/** Whether transaction $1 (another session's) still holds its transaction lock: it has not ended completely. */
const STILL_ENDING = `EXISTS (SELECT FROM pg_catalog.pg_locks l WHERE l.locktype = 'transactionid' AND l.transactionid = $1::pg_catalog.xid
  AND l.pid <> pg_catalog.pg_backend_pid())`;

/**
 * Waits until transaction `previous` (the key's last holder, seen committed while still ending)
 * has released its locks: microseconds, unless its backend is descheduled mid-commit. The wait
 * is for work the server does once a commit is durable, which nothing can hold up for long; its
 * bound is lock_timeout, but at least a second, so that a session set to fail fast on a held key
 * (lock_timeout of a few milliseconds) does not fail on a key that is free.
 */
async function previousEnded(sql: Sql, full: string, previous: string): Promise<void> {
  const setting = Number((await sql.query("SELECT setting FROM pg_catalog.pg_settings WHERE name = 'lock_timeout'")).rows[0]?.setting);
  const bound = Math.max(setting || 0, 1_000);
  const deadline = Date.now() + bound;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (!(await sql.query(`SELECT ${STILL_ENDING} AS ending`, [previous])).rows[0]?.ending) return;
    if (Date.now() >= deadline) {
      throw new Error(`gave up waiting ${bound} ms for the last holder of the admin's lock "${escapeText(full)}" (transaction ${previous}) to finish committing; nothing was applied: apply again`);
    }
  }
}

/** Who holds the row of `full` (its xmax's transaction, from pg_locks + pg_stat_activity), as one line. */
async function heldMessage(sql: Sql, full: string): Promise<string> {
  const holders = await sql.query(`SELECT a.usename AS role, a.pid, a.application_name AS app FROM ${TABLE} k
      JOIN pg_catalog.pg_locks l ON l.locktype = 'transactionid' AND l.transactionid = k.xmax AND l.granted AND l.mode = 'ExclusiveLock'
      JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
    WHERE k.key = $1 AND l.pid <> pg_catalog.pg_backend_pid() ORDER BY a.pid`, [full]);
  const timeout = (await sql.query("SELECT pg_catalog.current_setting('lock_timeout') AS t")).rows[0]?.t as string;
  return `gave up waiting ${timeout} (lock_timeout, TENANCY_PG_LOCK_TIMEOUT_MS) for the admin's lock "${escapeText(full)}", ${describeHolders(holders.rows)}; nothing was applied: let that run finish (or end it: SELECT pg_terminate_backend(pid)) and apply again`;
}
