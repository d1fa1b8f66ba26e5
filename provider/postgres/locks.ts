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
 */
export async function lock(sql: Sql, key: string): Promise<void> {
  const full = `tenancy:${key}`;
  await ensureTable(sql);
  await sql.query("SAVEPOINT tenancy_lock");
  try {
    await sql.query(`INSERT INTO ${TABLE} (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`, [full]);
    await sql.query(`SELECT 1 FROM ${TABLE} WHERE key = $1 FOR UPDATE`, [full]);
  } catch (error) {
    if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    await sql.query("ROLLBACK TO SAVEPOINT tenancy_lock");
    throw new Error(await heldMessage(sql, full));
  }
  await sql.query("RELEASE SAVEPOINT tenancy_lock");
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
