// Privileges that cross a workspace's boundary, read from the catalogs, and their take-back.
//
// Every object kind that carries an ACL is read with aclexplode: the workspace's schema, and every
// table, view, sequence, column, routine (functions, procedures, aggregates), type and domain in
// it or owned by its roles, its roles' large objects, foreign data wrappers and servers, their
// default privileges, role memberships and the database. A crossing is an ACL entry whose grantee
// is neither one of the workspace's roles nor the object's owner (PUBLIC included), a membership
// linking a workspace role to a role outside it, or a database privilege beyond CONNECT.
//
// Each crossing comes with its own REVOKE, built in SQL by format('%I') and pg_identify_object
// (whose identities are quoted, routines with their argument types), never from text in TS.
// A take-back never fails the whole run: each REVOKE runs under a savepoint, as the grant's
// grantor when the admin may act for it, and what is left afterwards is returned, not thrown.
import type { WorkspaceNames } from "../../components/naming.ts";
import { asRole, inTransaction, type PgConnection, type Sql } from "./client.ts";
import { lock } from "./locks.ts";

/** A privilege that crosses the boundary, as found in the catalogs. */
export interface Crossing {
  /** schema, table, sequence, column, routine, type, large-object, foreign-data-wrapper, foreign-server, default, member-of, has-member, database. */
  readonly kind: string;
  /** The database it was found in. */
  readonly database: string;
  /** What it concerns, as PostgreSQL identifies it (quoted): `acme__emea.p()`, `acme__emea.t."Odd col"`, `424242`. */
  readonly object: string;
  /** The other party: a role name, or PUBLIC. */
  readonly role: string;
  readonly detail: string;
  /** Who granted it (a role name); the take-back acts as this role when the admin may. */
  readonly grantor: string;
  readonly actAsGrantor: boolean;
  /** The statement that takes it back (quoted in SQL). */
  readonly revoke: string;
}

/** One line, stable across runs (state and diffs compare these). */
export const describeCrossing = (c: Crossing) => `${c.database}: ${c.kind} ${c.object} ${c.role} ${c.detail}`;

const roleList = (n: WorkspaceNames) => [n.owner, n.app, n.readonly];
const SHARED_KINDS = ["member-of", "has-member", "database"];

// The database's ACL holds a grant per workspace role (thousands at scale): aclexplode over the
// whole array re-reads (detoasts) it for every row it returns, quadratic in its size (146 ms of a
// 158 ms check at 1,000 workspaces), so each item is exploded on its own after one unnest.
// $1 the workspace's role names, $2 its schema (may not exist, e.g. in another database), $3 the
// database whose privileges are checked ('' for none), $4 its read-only role.
const CROSSINGS = `WITH ours AS (SELECT oid, rolname FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])),
  s AS (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $2),
  name AS (SELECT 0::oid AS oid, 'PUBLIC'::text AS rolname UNION ALL SELECT oid, rolname::text FROM pg_catalog.pg_roles),
  acl AS (
    SELECT 'schema' AS kind, 'SCHEMA' AS keyword, 'pg_catalog.pg_namespace'::pg_catalog.regclass AS classid, n.oid AS objid, 0 AS subid, NULL::name AS col, n.nspowner AS owner, n.nspacl AS acl
      FROM pg_catalog.pg_namespace n WHERE n.nspacl IS NOT NULL AND (n.oid IN (SELECT oid FROM s) OR n.nspowner IN (SELECT oid FROM ours))
    UNION ALL
    SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
        'pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0, NULL, c.relowner, c.relacl
      FROM pg_catalog.pg_class c WHERE c.relacl IS NOT NULL AND (c.relnamespace IN (SELECT oid FROM s) OR c.relowner IN (SELECT oid FROM ours))
    UNION ALL
    SELECT 'column', 'COLUMN', 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0, a.attname, c.relowner, a.attacl
      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
      WHERE a.attacl IS NOT NULL AND NOT a.attisdropped AND (c.relnamespace IN (SELECT oid FROM s) OR c.relowner IN (SELECT oid FROM ours))
    UNION ALL
    SELECT 'routine', 'ROUTINE', 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, 0, NULL, p.proowner, p.proacl
      FROM pg_catalog.pg_proc p WHERE p.proacl IS NOT NULL AND (p.pronamespace IN (SELECT oid FROM s) OR p.proowner IN (SELECT oid FROM ours))
    UNION ALL
    SELECT 'type', 'TYPE', 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid, 0, NULL, t.typowner, t.typacl
      FROM pg_catalog.pg_type t WHERE t.typacl IS NOT NULL AND (t.typnamespace IN (SELECT oid FROM s) OR t.typowner IN (SELECT oid FROM ours))
    UNION ALL
    SELECT 'large-object', 'LARGE OBJECT', 'pg_catalog.pg_largeobject'::pg_catalog.regclass, l.oid, 0, NULL, l.lomowner, l.lomacl
      FROM pg_catalog.pg_largeobject_metadata l WHERE l.lomacl IS NOT NULL AND l.lomowner IN (SELECT oid FROM ours)
    UNION ALL
    SELECT 'foreign-data-wrapper', 'FOREIGN DATA WRAPPER', 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass, w.oid, 0, NULL, w.fdwowner, w.fdwacl
      FROM pg_catalog.pg_foreign_data_wrapper w WHERE w.fdwacl IS NOT NULL AND w.fdwowner IN (SELECT oid FROM ours)
    UNION ALL
    SELECT 'foreign-server', 'FOREIGN SERVER', 'pg_catalog.pg_foreign_server'::pg_catalog.regclass, f.oid, 0, NULL, f.srvowner, f.srvacl
      FROM pg_catalog.pg_foreign_server f WHERE f.srvacl IS NOT NULL AND f.srvowner IN (SELECT oid FROM ours)
  )
SELECT acl.kind, pg_catalog.current_database()::text AS database,
    i.identity || coalesce('.' || pg_catalog.quote_ident(acl.col), '') AS object, g.rolname AS role, x.privilege_type AS detail,
    gr.rolname AS grantor, pg_catalog.pg_has_role(current_user, x.grantor, 'SET') AS "actAsGrantor",
    CASE WHEN acl.col IS NOT NULL THEN pg_catalog.format('REVOKE %s (%I) ON TABLE %s FROM %s CASCADE', x.privilege_type, acl.col, i.identity, CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(g.rolname) END)
      ELSE pg_catalog.format('REVOKE %s ON %s %s FROM %s CASCADE', x.privilege_type, acl.keyword, i.identity, CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(g.rolname) END) END AS revoke
  FROM acl CROSS JOIN LATERAL pg_catalog.aclexplode(acl.acl) x JOIN name g ON g.oid = x.grantee JOIN name gr ON gr.oid = x.grantor
    CROSS JOIN LATERAL pg_catalog.pg_identify_object(acl.classid, acl.objid, acl.subid) i
  WHERE x.grantee NOT IN (SELECT oid FROM ours) AND x.grantee <> acl.owner
UNION ALL
SELECT 'default', pg_catalog.current_database()::text, o.rolname || coalesce(' in ' || pg_catalog.quote_ident(dn.nspname), '') || ' on ' || d.defaclobjtype::text,
    g.rolname, x.privilege_type, gr.rolname, pg_catalog.pg_has_role(current_user, x.grantor, 'SET'),
    pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s REVOKE %s ON %s FROM %s CASCADE', o.rolname, coalesce(' IN SCHEMA ' || pg_catalog.quote_ident(dn.nspname), ''), x.privilege_type,
      CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' ELSE 'LARGE OBJECTS' END,
      CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(g.rolname) END)
  FROM pg_catalog.pg_default_acl d JOIN ours o ON o.oid = d.defaclrole LEFT JOIN pg_catalog.pg_namespace dn ON dn.oid = d.defaclnamespace AND d.defaclnamespace <> 0
    CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) x JOIN name g ON g.oid = x.grantee JOIN name gr ON gr.oid = x.grantor
  WHERE x.grantee NOT IN (SELECT oid FROM ours) AND (x.grantee <> 0 OR d.defaclnamespace <> 0)
UNION ALL
SELECT 'member-of', pg_catalog.current_database()::text, o.rolname::text, r.rolname::text, 'membership', gr.rolname::text, pg_catalog.pg_has_role(current_user, m.grantor, 'USAGE'),
    pg_catalog.format('REVOKE %I FROM %I GRANTED BY %I CASCADE', r.rolname, o.rolname, gr.rolname)
  FROM pg_catalog.pg_auth_members m JOIN ours o ON o.oid = m.member JOIN pg_catalog.pg_roles r ON r.oid = m.roleid JOIN pg_catalog.pg_roles gr ON gr.oid = m.grantor
UNION ALL
SELECT 'has-member', pg_catalog.current_database()::text, o.rolname::text, r.rolname::text, 'membership', gr.rolname::text, pg_catalog.pg_has_role(current_user, m.grantor, 'USAGE'),
    pg_catalog.format('REVOKE %I FROM %I GRANTED BY %I CASCADE', o.rolname, r.rolname, gr.rolname)
  FROM pg_catalog.pg_auth_members m JOIN ours o ON o.oid = m.roleid JOIN pg_catalog.pg_roles r ON r.oid = m.member JOIN pg_catalog.pg_roles gr ON gr.oid = m.grantor
  WHERE r.rolname <> current_user AND r.oid NOT IN (SELECT oid FROM ours)
    -- The read-only role is meant to be granted to people (support, reporting), never to
    -- another workspace's roles; the owner and app roles to nobody but the admin.
    AND (o.rolname <> $4 OR r.rolname ~ '__(owner|app|ro)$')
UNION ALL
SELECT 'database', pg_catalog.current_database()::text, db.datname::text, o.rolname::text, x.privilege_type, gr.rolname, pg_catalog.pg_has_role(current_user, x.grantor, 'SET'),
    pg_catalog.format('REVOKE %s ON DATABASE %I FROM %I CASCADE', x.privilege_type, db.datname, o.rolname)
  FROM pg_catalog.pg_database db CROSS JOIN LATERAL pg_catalog.unnest(db.datacl) item CROSS JOIN LATERAL pg_catalog.aclexplode(ARRAY[item]) x JOIN ours o ON o.oid = x.grantee JOIN name gr ON gr.oid = x.grantor
  WHERE db.datname = $3 AND x.privilege_type <> 'CONNECT'`;

/** Every privilege crossing the boundary of `n` in the connected database, sorted. One query. */
export async function findCrossings(sql: Sql, n: WorkspaceNames, database: string, shared = true): Promise<Crossing[]> {
  // Named: prepared once per connection, so the diff of every boundary does not plan it again.
  const all = (await sql.query({ name: "tenancy-crossings", text: CROSSINGS, values: [roleList(n), n.schema, database, n.readonly] })).rows as Crossing[];
  return settleCrossings(all, shared);
}

/** The rows of CROSSINGS as findCrossings returns them: shared kinds only when asked, no duplicates, sorted. */
export function settleCrossings(all: readonly Crossing[], shared: boolean): Crossing[] {
  // Memberships are one catalog for the whole server: read once, in the workspace's own database.
  const rows = shared ? all : all.filter((c) => !SHARED_KINDS.includes(c.kind));
  const seen = new Map(rows.map((c) => [describeCrossing(c), c]));
  return [...seen.values()].sort((a, b) => describeCrossing(a).localeCompare(describeCrossing(b)));
}

/** crossingSignals' line for another database where the workspace's roles own objects that carry another role's privilege. */
export const elsewhereSignal = (database: string, n: WorkspaceNames) => `${database}: objects owned by a role of ${n.schema} carry another role's privileges`;

/**
 * Takes back every crossing it can, each under a savepoint (one that fails leaves the others and
 * the transaction intact), as its grantor when the admin may act for it: a REVOKE by anyone else
 * takes back nothing. Returns what is still there afterwards (read again: a REVOKE that did not
 * apply says nothing). Call inside a transaction.
 */
export async function takeBack(sql: Sql, n: WorkspaceNames, database: string, shared = true): Promise<Crossing[]> {
  const found = await findCrossings(sql, n, database, shared);
  // A database privilege is revoked in the database's catalog row, which every workspace's
  // boundary changes: under the database key, as every other change of it (boundary-sql.ts).
  // Taken once, before the savepoints: a key that cannot be had fails the transaction, not the take-back.
  if (found.some((c) => c.kind === "database")) await lock(sql, `database:${database}`);
  for (const c of found) {
    await sql.query("SAVEPOINT take_back");
    try {
      const asGrantor = c.actAsGrantor && !SHARED_KINDS.includes(c.kind);
      await (asGrantor ? asRole(sql, c.grantor, () => sql.query(c.revoke)) : sql.query(c.revoke));
      await sql.query("RELEASE SAVEPOINT take_back");
    } catch {
      // Reported below as what is left, with the object; the run goes on.
      await sql.query("ROLLBACK TO SAVEPOINT take_back");
    }
  }
  return found.length === 0 ? [] : findCrossings(sql, n, database, shared);
}

/**
 * The cheap check Diff runs on every preview and apply: whether anything crosses the boundary
 * in the connected database, or an object a workspace role owns in another database carries a
 * privilege of a role outside the workspace (pg_shdepend is shared by every database; a grant to
 * PUBLIC there leaves no trace in it, and is found only by an update or a refresh).
 */
export async function crossingSignals(sql: Sql, n: WorkspaceNames, database: string): Promise<string[]> {
  const here = (await findCrossings(sql, n, database)).map(describeCrossing);
  const elsewhere = await sql.query({ name: "tenancy-crossings-elsewhere", text: `WITH ours AS (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[]))
    SELECT DISTINCT d.datname::text AS database FROM pg_catalog.pg_shdepend o JOIN pg_catalog.pg_database d ON d.oid = o.dbid
    WHERE o.deptype = 'o' AND o.refobjid IN (SELECT oid FROM ours) AND d.datname <> pg_catalog.current_database()
      AND EXISTS (SELECT 1 FROM pg_catalog.pg_shdepend a WHERE a.dbid = o.dbid AND a.classid = o.classid AND a.objid = o.objid
        AND a.deptype = 'a' AND a.refobjid NOT IN (SELECT oid FROM ours))`, values: [roleList(n)] });
  return [...here, ...elsewhere.rows.map((r) => elsewhereSignal(r.database, n))];
}

/** Other databases where the workspace's roles own something (pg_shdepend), each with whether the admin can connect. */
export async function databasesOwnedIn(sql: Sql, n: WorkspaceNames): Promise<{ database: string; reachable: boolean }[]> {
  const found = await sql.query(`SELECT DISTINCT d.datname::text AS database,
      d.datallowconn AND pg_catalog.has_database_privilege(current_user, d.oid, 'CONNECT') AS reachable
    FROM pg_catalog.pg_shdepend o JOIN pg_catalog.pg_database d ON d.oid = o.dbid
    WHERE o.deptype = 'o' AND o.refobjid IN (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])) AND d.datname <> pg_catalog.current_database()
    ORDER BY 1`, [roleList(n)]);
  return found.rows as { database: string; reachable: boolean }[];
}

/**
 * Databases other than its own the workspace's roles can still connect to or make temporary
 * tables in. The admin revokes what was granted to the roles themselves where it may; PUBLIC's
 * CONNECT and TEMPORARY on another database it leaves alone (only the owner or a superuser can
 * take it away from `postgres` and `template1`, which the embedded setup does: cli/local/postgres.ts
 * closeOtherDatabases; on a database the admin owns, others may rely on it): those stay, are
 * returned by otherDatabaseReach, and the audit reports them (workspace-reaches-other-database).
 */
export async function revokeOtherDatabases(sql: Sql, n: WorkspaceNames, database: string): Promise<void> {
  const direct = await sql.query(`SELECT pg_catalog.format('REVOKE %s ON DATABASE %I FROM %I CASCADE', x.privilege_type, d.datname, r.rolname) AS revoke,
      pg_catalog.pg_get_userbyid(x.grantor) AS grantor, pg_catalog.pg_has_role(current_user, x.grantor, 'SET') AS can
    FROM pg_catalog.pg_database d CROSS JOIN LATERAL pg_catalog.unnest(d.datacl) item CROSS JOIN LATERAL pg_catalog.aclexplode(ARRAY[item]) x JOIN pg_catalog.pg_roles r ON r.oid = x.grantee
    WHERE r.rolname = ANY($1::text[]) AND d.datname <> $2 AND x.privilege_type IN ('CONNECT', 'TEMPORARY')`, [roleList(n), database]);
  for (const r of direct.rows) {
    await sql.query("SAVEPOINT reach");
    try {
      await (r.can ? asRole(sql, r.grantor, () => sql.query(r.revoke)) : sql.query(r.revoke));
      await sql.query("RELEASE SAVEPOINT reach");
    } catch {
      await sql.query("ROLLBACK TO SAVEPOINT reach");
    }
  }
}

/** What revokeOtherDatabases leaves: one line per other database the app role can connect to. */
export async function otherDatabaseReach(sql: Sql, n: WorkspaceNames, database: string): Promise<string[]> {
  if (!(await sql.query("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", [n.app])).rowCount) return [];
  const left = await sql.query(`SELECT d.datname::text AS database, pg_catalog.pg_get_userbyid(d.datdba) AS owner,
      pg_catalog.array_to_string(ARRAY(SELECT p FROM pg_catalog.unnest(ARRAY['CONNECT', 'TEMPORARY']) p
        WHERE pg_catalog.has_database_privilege($2::text, d.oid, p)), ', ') AS privileges
    FROM pg_catalog.pg_database d
    WHERE d.datname <> $1 AND d.datallowconn AND pg_catalog.has_database_privilege($2::text, d.oid, 'CONNECT')
    ORDER BY 1`, [database, n.app]);
  return left.rows.map((r) => `${r.database}: ${n.app} has ${r.privileges} (through PUBLIC or a grant the admin cannot revoke; owner ${r.owner})`);
}

/**
 * The take-back in the other databases where the workspace's roles own objects (large objects in
 * `postgres`, say): each in its own transaction there. Returns what is left, with its database.
 */
export async function takeBackElsewhere(connection: PgConnection, n: WorkspaceNames, owned: readonly { database: string; reachable: boolean }[]): Promise<string[]> {
  const left: string[] = [];
  for (const { database, reachable } of owned) {
    if (!reachable) { left.push(`${database}: objects owned by a role of ${n.schema}, in a database the admin cannot connect to`); continue; }
    // A database that fails (dropped meanwhile, refusing connections) is reported, not thrown:
    // the workspace's own boundary is already converged.
    const here = await inTransaction({ ...connection, database }, (sql) => takeBack(sql, n, "", false))
      .then((found) => found.map(describeCrossing), (error: Error) => [`${database}: the take-back there failed: ${error.message}`]);
    left.push(...here);
  }
  return left;
}
