// Decommissioning a workspace's boundary, all or nothing. Its roles can be dropped only when
// nothing in any database of the server depends on them (pg_shdepend, shared by every database,
// says where). So before anything is deleted, the whole drop is rehearsed in each database
// concerned and rolled back: what would still depend on a role afterwards, or a database the admin
// cannot connect to, blocks the delete, and one line names each blocking object and its database.
// The workspace's credentials rows and control-plane record are deleted by other resources
// before the boundary: their deletes run the same proof first (assertDroppable), so a workspace
// that cannot be dropped keeps all of it.
//
// No statement here runs workspace code: REASSIGN OWNED, DROP OWNED and DROP SCHEMA ... CASCADE
// change catalogs only (event triggers, which could run code on DROP, need a superuser to create).
import { escapeText } from "../../components/escape.ts";
import type { WorkspaceNames } from "../../components/naming.ts";
import { inTransaction, sessionLimits, type PgConnection, type SessionLimits, type Sql } from "./client.ts";
import { describeHolders, recallHeld, rememberHeld, type Holder } from "./lock-waits.ts";
import { lock } from "./locks.ts";
import { findRoles, manage } from "./roles.ts";

const roleList = (n: WorkspaceNames) => [n.owner, n.app, n.readonly];


/** A rehearsal: runs `fn` in a transaction that is always rolled back, and returns its result. */
async function rehearse<T>(connection: PgConnection, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const box: { value?: T } = {};
  const rolledBack = new Error("rehearsal");
  await inTransaction(connection, async (sql) => { box.value = await fn(sql); throw rolledBack; }).catch((error) => {
    if (error !== rolledBack) throw error;
  });
  return box.value as T;
}

/** What still depends on the roles in the connected database (and on shared objects), named. */
async function dependents(sql: Sql, n: WorkspaceNames): Promise<string[]> {
  const found = await sql.query(`SELECT i.type || ' ' || coalesce(i.identity, d.objid::text) || ' (' ||
        CASE d.deptype WHEN 'o' THEN 'owned by ' WHEN 'a' THEN 'a privilege of ' ELSE 'depends on ' END || r.rolname || ')' AS what
      FROM pg_catalog.pg_shdepend d JOIN pg_catalog.pg_roles r ON r.oid = d.refobjid AND d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass
        LEFT JOIN LATERAL pg_catalog.pg_identify_object(d.classid, d.objid, d.objsubid) i ON true
      WHERE r.rolname = ANY($1::text[]) AND d.deptype IN ('o', 'a', 'r', 'i')
        AND (d.dbid = 0 OR d.dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()))
      ORDER BY 1`, [roleList(n)]);
  return found.rows.map((r) => r.what as string);
}

/** Other databases holding something that depends on the roles, and whether the admin can connect to each. */
async function otherDatabases(sql: Sql, n: WorkspaceNames): Promise<{ database: string; reachable: boolean; count: number }[]> {
  const found = await sql.query(`SELECT db.datname::text AS database, db.datallowconn AND pg_catalog.has_database_privilege(current_user, db.oid, 'CONNECT') AS reachable, count(*)::int AS count
      FROM pg_catalog.pg_shdepend d JOIN pg_catalog.pg_database db ON db.oid = d.dbid
      WHERE d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND d.refobjid IN (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[]))
        AND db.datname <> pg_catalog.current_database()
      GROUP BY 1, 2 ORDER BY 1`, [roleList(n)]);
  return found.rows as { database: string; reachable: boolean; count: number }[];
}

/** In a database other than the workspace's: what its roles own goes, their privileges are revoked. */
async function clearElsewhere(sql: Sql, existing: readonly string[]): Promise<void> {
  await sql.query(`DROP OWNED BY ${existing.map((r) => sql.escapeIdentifier(r)).join(", ")}`);
}

/**
 * How long a statement may wait on a lock while this transaction holds the database key: short,
 * so that another workspace's change queued on the key (its wait is lock_timeout) still gets it
 * when something of this workspace's is held. The waits a workspace's roles can cause are sat out
 * before the key (clearHere); this bound is for a lock taken in between.
 */
export function keyHeldLockTimeoutMs(limits: SessionLimits = sessionLimits()): number {
  return Math.min(limits.lockTimeoutMs, Math.max(2_000, Math.floor(limits.lockTimeoutMs / 6)));
}

/**
 * Waits (up to lock_timeout, polling, holding no key) until no session of another role than the
 * admin holds a lock on what deleting the workspace locks exclusively: its schema, the tables in
 * it, and its roles (a session that granted something to one of them keeps a lock on it until it
 * ends, and DROP ROLE waits for it). Throws one line naming the holders; a lock that already
 * outlasted lock_timeout once in this process, still held by the same session, fails at once.
 */
async function waitForWorkspaceLocks(sql: Sql, n: WorkspaceNames): Promise<void> {
  const bound = sessionLimits().lockTimeoutMs;
  const deadline = Date.now() + bound;
  for (;;) {
    const held = (await sql.query(`WITH db AS (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()),
        nsp AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $2)
      SELECT coalesce(pg_catalog.pg_describe_object(l.classid, l.objid, l.objsubid), l.relation::pg_catalog.regclass::pg_catalog.text) AS what,
          a.usename AS role, a.pid, a.application_name AS app
        FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
        WHERE l.granted AND l.pid <> pg_catalog.pg_backend_pid() AND a.usename IS DISTINCT FROM CURRENT_USER AND (
          (l.locktype = 'object' AND l.database = 0 AND l.classid = 'pg_catalog.pg_authid'::pg_catalog.regclass
            AND l.objid IN (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])))
          OR (l.locktype = 'object' AND l.database = (SELECT oid FROM db) AND l.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND l.objid = (SELECT oid FROM nsp))
          OR (l.locktype = 'relation' AND l.database = (SELECT oid FROM db) AND l.relation IN (SELECT oid FROM pg_catalog.pg_class WHERE relnamespace = (SELECT oid FROM nsp))))
        ORDER BY a.pid, 1`, [roleList(n), n.schema])).rows as (Holder & { what: string })[];
    if (held.length === 0) return;
    const known = held.map((h) => recallHeld(h.what, h.pid)).find((m) => m !== undefined);
    if (known !== undefined) throw new Error(known);
    if (Date.now() >= deadline) {
      const first = held[0]!;
      const line = (tail: string) => `gave up waiting ${bound} ms (lock_timeout, TENANCY_PG_LOCK_TIMEOUT_MS) for ${escapeText(first.what)}, which deleting the workspace locks, ${describeHolders(held.filter((h) => h.what === first.what))}${tail}; nothing was applied: end that session (SELECT pg_terminate_backend(pid)) and apply again`;
      for (const h of held) rememberHeld(h.what, h.pid, line(", found held that long by an earlier change of this run (gave up at once)"));
      throw new Error(line(""));
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * In the workspace's database: the schema goes, what the app and read-only roles own elsewhere
 * passes to the owner, then (under the database key: DROP OWNED revokes the roles' database
 * privileges, a catalog row every workspace changes) what is left of all three goes.
 *
 * Order matters for availability (issue #16): the locks a workspace's sessions can hold on what
 * this drops (its schema, the tables in it, its roles) are waited for before any key, and the
 * rest (their objects elsewhere) before the database key, so a workspace whose own sessions
 * block its deletion is refused without holding up its other resources on the boundary key, or
 * another workspace's deletion or creation on the database key.
 */
async function clearHere(sql: Sql, n: WorkspaceNames, database: string): Promise<string[]> {
  await waitForWorkspaceLocks(sql, n);
  await lock(sql, `boundary:${n.schema}`);
  const roles = await findRoles(sql, roleList(n));
  for (const role of roles.keys()) await manage(sql, role);
  const owner = roles.has(n.owner) ? sql.escapeIdentifier(n.owner) : "CURRENT_USER";
  await sql.query(`DROP SCHEMA IF EXISTS ${sql.escapeIdentifier(n.schema)} CASCADE`);
  for (const role of [n.app, n.readonly]) if (roles.has(role)) await sql.query(`REASSIGN OWNED BY ${sql.escapeIdentifier(role)} TO ${owner}`);
  await lock(sql, `database:${database}`);
  await sql.query(`SET LOCAL lock_timeout = ${keyHeldLockTimeoutMs()}`);
  await underKey(async () => {
    for (const role of [n.app, n.readonly, n.owner]) if (roles.has(role)) await sql.query(`DROP OWNED BY ${sql.escapeIdentifier(role)}`);
  });
  return [...roles.keys()];
}

/** Runs `fn` (after clearHere, under its shorter lock_timeout); a lock timeout says that bound. */
async function underKey(fn: () => Promise<void>): Promise<void> {
  await fn().catch((error: Error) => { throw Object.assign(error, { boundMs: keyHeldLockTimeoutMs() }); });
}

/** Drops the roles clearHere left without dependents (still under the database key). */
async function dropRoles(sql: Sql, n: WorkspaceNames, roles: readonly string[]): Promise<void> {
  await underKey(async () => {
    for (const role of [n.app, n.readonly, n.owner]) if (roles.includes(role)) await sql.query(`DROP ROLE ${sql.escapeIdentifier(role)}`);
  });
}

const failed = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Why the workspace's roles could not be dropped now, per database ("database postgres: table
 * public.t (a privilege of acme__b__ro)"); empty when they can. Rehearses the whole drop in every
 * database concerned and rolls it back: nothing changes.
 */
export async function dropBlockers(connection: PgConnection, n: WorkspaceNames): Promise<string[]> {
  const blockers: string[] = [];
  const { elsewhere, existing } = await rehearse(connection, async (sql) => {
    const existing = [...(await findRoles(sql, roleList(n))).keys()];
    return { existing, elsewhere: existing.length === 0 ? [] : await otherDatabases(sql, n) };
  });
  if (existing.length === 0) return [];
  for (const db of elsewhere) {
    if (!db.reachable) { blockers.push(`database ${db.database}: ${db.count} object(s) or privilege(s) of the workspace's roles, and the admin cannot connect to it`); continue; }
    const left = await rehearse({ ...connection, database: db.database }, async (sql) => {
      await clearElsewhere(sql, existing);
      return dependents(sql, n);
    }).catch((error) => [`cannot clear it: ${failed(error)}`]);
    blockers.push(...left.map((what) => `database ${db.database}: ${what}`));
  }
  const here = await rehearse(connection, async (sql) => {
    const roles = await clearHere(sql, n, connection.database);
    const left = await dependents(sql, n);
    // With nothing elsewhere, the rehearsal drops the roles too: DROP ROLE waits for the lock
    // a session granting to one of them holds (an open GRANT transaction of another workspace),
    // so such a lock refuses the delete here, before the record or credentials go, not halfway.
    if (left.length === 0 && elsewhere.length === 0) {
      await dropRoles(sql, n, roles);
    }
    return left;
  }).catch((error) => [`cannot clear it: ${failed(error)}`]);
  blockers.push(...here.map((what) => `database ${connection.database}: ${what}`));
  return blockers;
}

/** Throws, in one line, when the workspace's roles could not be dropped; `what` says what would have been deleted. */
export async function assertDroppable(connection: PgConnection, n: WorkspaceNames, what: string): Promise<void> {
  const blockers = await dropBlockers(connection, n);
  if (blockers.length > 0) {
    throw new Error(escapeText(`refusing to delete ${what} of ${n.schema}: its roles could not be dropped, so nothing of it was deleted; remove what blocks them (a superuser can), then run again: ${blockers.join("; ")}`));
  }
}

/** Proves the drop, then clears the other databases, then drops schema and roles in one transaction. */
export async function dropBoundary(connection: PgConnection, n: WorkspaceNames, database: string): Promise<void> {
  await assertDroppable(connection, n, "the boundary (schema and roles)");
  const { elsewhere, existing } = await inTransaction(connection, async (sql) => {
    const existing = [...(await findRoles(sql, roleList(n))).keys()];
    return { existing, elsewhere: existing.length === 0 ? [] : await otherDatabases(sql, n) };
  });
  // Only privileges and objects of roles about to be dropped go here; the workspace's data is
  // in its schema, dropped last, in one transaction with the roles.
  for (const db of elsewhere) await inTransaction({ ...connection, database: db.database }, (sql) => clearElsewhere(sql, existing));
  await inTransaction(connection, async (sql) => {
    await dropRoles(sql, n, await clearHere(sql, n, database));
  });
}
