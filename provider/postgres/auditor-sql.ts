// The auditor role (components/auditor.ts) in PostgreSQL: created and converged with the control
// plane, in the control plane's transaction (which already holds the migration and database
// locks), by the admin that owns the database and the control-plane tables. The admin needs no
// SUPERUSER: CREATEROLE creates the role and gives the admin ADMIN OPTION on it (PostgreSQL 16+).
import { AUDITOR_PRIVILEGES, auditorGrants } from "../../components/auditor.ts";
import { AUDITOR_ROLE, CONTROL_SCHEMA } from "../../components/naming.ts";
import type { Sql } from "./client.ts";
import { apply, inEffect } from "./grants-sql.ts";
import { findRoles } from "./roles.ts";

/** Attributes a CREATEROLE admin can take away, when it holds them itself (the others need a superuser). */
const REMOVABLE = ["CREATEROLE", "CREATEDB"];

const admin = async (sql: Sql): Promise<string> => (await sql.query("SELECT CURRENT_USER::pg_catalog.text AS u")).rows[0].u as string;

/** Roles the auditor is a member of (each would hand it that role's privileges), with who granted it. */
async function memberships(sql: Sql): Promise<{ role: string; grantor: string }[]> {
  const r = await sql.query(`SELECT g.rolname::pg_catalog.text AS role, pg_catalog.pg_get_userbyid(am.grantor)::pg_catalog.text AS grantor
    FROM pg_catalog.pg_auth_members am JOIN pg_catalog.pg_roles g ON g.oid = am.roleid JOIN pg_catalog.pg_roles m ON m.oid = am.member
    WHERE m.rolname = $1 ORDER BY 1, 2`, [AUDITOR_ROLE]);
  return r.rows as { role: string; grantor: string }[];
}
const memberOf = async (sql: Sql) => [...new Set((await memberships(sql)).map((m) => m.role))];

/** Privileges the auditor holds on the database and the control plane beyond what it needs. */
async function extras(sql: Sql, database: string): Promise<string[]> {
  const r = await sql.query(`WITH a AS (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)
    SELECT 'database ' || d.datname::pg_catalog.text AS object, x.privilege_type AS privilege
      FROM pg_catalog.pg_database d, pg_catalog.aclexplode(d.datacl) x, a
      WHERE d.datname = $2 AND x.grantee = a.oid AND x.privilege_type <> $4
    UNION ALL SELECT 'schema ' || n.nspname::pg_catalog.text, x.privilege_type
      FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) x, a
      WHERE n.nspname = $3 AND x.grantee = a.oid AND x.privilege_type <> $5
    UNION ALL SELECT c.relname::pg_catalog.text, x.privilege_type
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, pg_catalog.aclexplode(c.relacl) x, a
      WHERE n.nspname = $3 AND x.grantee = a.oid AND (x.privilege_type <> $6 OR c.relkind NOT IN ('r', 'p', 'v', 'm', 'f'))
    ORDER BY 1, 2`, [AUDITOR_ROLE, database, CONTROL_SCHEMA, AUDITOR_PRIVILEGES.database, AUDITOR_PRIVILEGES.schema, AUDITOR_PRIVILEGES.table]);
  return r.rows.map((x) => `${x.privilege} on ${x.object}`);
}

/** "ok", or what is wrong with the auditor role as found: absent, login, elevated, grants, extras. */
export async function auditorStatus(sql: Sql, database: string): Promise<string> {
  const role = (await findRoles(sql, [AUDITOR_ROLE])).get(AUDITOR_ROLE);
  if (!role) return "absent";
  const problems: string[] = [];
  if (role.login) problems.push("it can log in");
  if (role.elevated.length > 0) problems.push(`it has ${role.elevated.join(", ")}`);
  for (const g of auditorGrants(database, await admin(sql))) {
    const held = await inEffect(sql, g);
    if (!held || held.length < g.privileges.length) problems.push(`grant ${g.id} is not in effect`);
  }
  const groups = await memberOf(sql);
  if (groups.length > 0) problems.push(`it is a member of ${groups.join(", ")}`);
  const more = await extras(sql, database);
  if (more.length > 0) problems.push(`it holds ${more.join(", ")}`);
  return problems.length > 0 ? problems.join("; ") : "ok";
}

/**
 * Creates the auditor role or brings it back to what components/auditor.ts says: NOLOGIN,
 * nothing elevated, a member of nothing, exactly its grants. Run after the migrations, so the
 * control-plane tables it reads exist.
 */
export async function convergeAuditor(sql: Sql, database: string): Promise<void> {
  const role = sql.escapeIdentifier(AUDITOR_ROLE);
  const me = await admin(sql);
  const roles = await findRoles(sql, [AUDITOR_ROLE, me]);
  const found = roles.get(AUDITOR_ROLE);
  const mine = roles.get(me)?.elevated ?? [];
  const removable = mine.includes("SUPERUSER") ? () => true : (a: string) => REMOVABLE.includes(a) && mine.includes(a);
  const stuck = (found?.elevated ?? []).filter((a) => !removable(a));
  if (stuck.length > 0) {
    throw new Error(`refusing to manage role "${AUDITOR_ROLE}": it has ${stuck.join(", ")}, which the admin cannot take away; a superuser can (ALTER ROLE ${AUDITOR_ROLE} ${stuck.map((a) => `NO${a}`).join(" ")})`);
  }
  // Left alone when already right: another stack's admin on the same server may have made it.
  if (!found || found.login || found.elevated.length > 0) {
    const taken = (found?.elevated ?? []).map((a) => ` NO${a}`).join("");
    await sql.query(`${found ? "ALTER" : "CREATE"} ROLE ${role} WITH NOLOGIN NOINHERIT PASSWORD NULL${taken}`).catch((error: Error) => {
      throw new Error(`cannot manage role "${AUDITOR_ROLE}": ${error.message} (the admin must have created it, or hold ADMIN OPTION on it)`);
    });
  }
  for (const group of await memberOf(sql)) await sql.query(`REVOKE ${sql.escapeIdentifier(group)} FROM ${role}`);
  // REVOKE takes back only what the admin granted; a membership another role granted stays.
  const left = await memberships(sql);
  if (left.length > 0) {
    throw new Error(`refusing to leave role "${AUDITOR_ROLE}" a member of ${left.map((m) => `"${m.role}"`).join(", ")}, which the admin cannot take back; a superuser can (${left.map((m) => `REVOKE ${m.role} FROM ${AUDITOR_ROLE} GRANTED BY ${m.grantor}`).join("; ")})`);
  }
  const grants = auditorGrants(database, me);
  if ((await extras(sql, database)).length > 0) {
    const schema = sql.escapeIdentifier(CONTROL_SCHEMA);
    await sql.query(`REVOKE ALL ON DATABASE ${sql.escapeIdentifier(database)} FROM ${role}`);
    await sql.query(`REVOKE ALL ON SCHEMA ${schema} FROM ${role}`);
    await sql.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${role}`);
    await sql.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${schema} FROM ${role}`);
  }
  for (const g of grants) {
    const held = await inEffect(sql, g);
    if (!held || held.length < g.privileges.length) await apply(sql, g, "grant", g.privileges);
  }
}
