// GRANT/REVOKE statements and what is in effect, for the descriptors of components/grants.ts.
// Statements are built only from descriptors that passed grantProblems (identifiers checked
// against PG_IDENTIFIER, privileges against an allow-list) and quote every identifier.
import { grantProblems, type GrantAction, type GrantDescriptor, type GrantTarget } from "../../components/grants.ts";
import type { Sql } from "./client.ts";

export type Grant = Omit<GrantDescriptor, "id">;
type State = Grant;
type Client = Sql;

/** `ON ...` clause and the catalog letters of a default-privilege object type. */
export const DEFAULT_TYPES: Record<string, { sql: string; defacl: string; acldefault: string }> = {
  tables: { sql: "TABLES", defacl: "r", acldefault: "r" },
  sequences: { sql: "SEQUENCES", defacl: "S", acldefault: "s" },
  functions: { sql: "FUNCTIONS", defacl: "f", acldefault: "f" },
  types: { sql: "TYPES", defacl: "T", acldefault: "T" },
};

/** The GRANT or REVOKE statement; privileges were checked against the allow-list. */
export function statement(c: Client, s: State, action: GrantAction, privileges: readonly string[]): string {
  const problems = grantProblems({ ...s, id: "", privileges });
  if (problems.length > 0) throw new Error(problems.join("; "));
  const grantee = s.role === "PUBLIC" ? "PUBLIC" : c.escapeIdentifier(s.role);
  const on = s.on;
  const verb = action === "grant" ? `GRANT ${privileges.join(", ")}` : `REVOKE ${privileges.join(", ")}`;
  const to = action === "grant" ? `TO ${grantee}` : `FROM ${grantee}`;
  switch (on.kind) {
    case "database": return `${verb} ON DATABASE ${c.escapeIdentifier(on.database)} ${to}`;
    case "schema": return `${verb} ON SCHEMA ${c.escapeIdentifier(on.schema)} ${to}`;
    case "all-tables-in-schema": return `${verb} ON ALL TABLES IN SCHEMA ${c.escapeIdentifier(on.schema)} ${to}`;
    case "default-privileges": {
      const inSchema = on.schema === undefined ? "" : ` IN SCHEMA ${c.escapeIdentifier(on.schema)}`;
      return `ALTER DEFAULT PRIVILEGES FOR ROLE ${c.escapeIdentifier(on.forRole)}${inSchema} ${verb} ON ${DEFAULT_TYPES[on.objectType]!.sql} ${to}`;
    }
  }
}

/** Runs the statement; a blanket table grant then takes back what it must not reach. */
export async function apply(c: Client, s: State, action: GrantAction, privileges: readonly string[]): Promise<void> {
  await c.query(statement(c, s, action, privileges));
  if (action !== "grant" || s.on.kind !== "all-tables-in-schema") return;
  const grantee = s.role === "PUBLIC" ? "PUBLIC" : c.escapeIdentifier(s.role);
  for (const table of s.on.except ?? []) {
    const found = await c.query("SELECT 1 FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = $1 AND t.relname = $2", [s.on.schema, table]);
    if (found.rowCount) await c.query(`REVOKE ${privileges.join(", ")} ON ${c.escapeIdentifier(s.on.schema)}.${c.escapeIdentifier(table)} FROM ${grantee}`);
  }
}

/** The catalog row whose ACL the statement changes: concurrent changes to it take turns. */
export function lockKey(on: GrantTarget): string {
  switch (on.kind) {
    case "database": return `database:${on.database}`;
    case "schema": return `schema:${on.schema}`;
    case "all-tables-in-schema": return `tables:${on.schema}`;
    case "default-privileges": return `default:${on.forRole}:${on.schema ?? ""}:${on.objectType}`;
  }
}

/**
 * Which of `privileges` the grantee holds on the target, or undefined when the target or the
 * grantee no longer exists. For all-tables-in-schema: held on every table of the schema.
 */
export async function held(c: Client, s: State): Promise<Set<string> | undefined> {
  let grantee = 0; // PUBLIC's oid in aclexplode
  if (s.role !== "PUBLIC") {
    const role = await c.query("SELECT oid FROM pg_roles WHERE rolname = $1", [s.role]);
    if (!role.rowCount) return undefined;
    grantee = Number(role.rows[0].oid);
  }
  const on = s.on;
  const privs = [...s.privileges];
  let result;
  switch (on.kind) {
    case "database":
      result = await c.query(`SELECT array(SELECT a.privilege_type FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
        WHERE a.grantee = $2) AS present FROM pg_database d WHERE d.datname = $1`, [on.database, grantee]);
      break;
    case "schema":
      result = await c.query(`SELECT array(SELECT a.privilege_type FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
        WHERE a.grantee = $2) AS present FROM pg_namespace n WHERE n.nspname = $1`, [on.schema, grantee]);
      break;
    case "all-tables-in-schema":
      result = await c.query(`SELECT array(SELECT p FROM unnest($3::text[]) p WHERE NOT EXISTS (
          SELECT 1 FROM pg_class t WHERE t.relnamespace = n.oid AND t.relkind IN ('r', 'p', 'v', 'm', 'f') AND t.relname <> ALL($4::text[]) AND NOT EXISTS (
            SELECT 1 FROM aclexplode(coalesce(t.relacl, acldefault('r', t.relowner))) a WHERE a.grantee = $2 AND a.privilege_type = p))
        ) AS present FROM pg_namespace n WHERE n.nspname = $1`, [on.schema, grantee, privs, [...(on.except ?? [])]]);
      break;
    case "default-privileges": {
      const type = DEFAULT_TYPES[on.objectType]!;
      // Global defaults start from the built-in ACL; IN SCHEMA defaults only add to them. No row
      // IN SCHEMA is NULL, not an empty array: aclexplode refuses those ("ACL arrays must be one-dimensional").
      result = await c.query(`SELECT array(SELECT a.privilege_type FROM aclexplode(coalesce(
            (SELECT defaclacl FROM pg_default_acl WHERE defaclrole = r.oid AND defaclnamespace = coalesce(n.oid, 0) AND defaclobjtype = $3::"char"),
            CASE WHEN $1::text IS NULL THEN acldefault($4::"char", r.oid) END)) a WHERE a.grantee = $5) AS present
        FROM pg_roles r LEFT JOIN pg_namespace n ON n.nspname = $1::text
        WHERE r.rolname = $2 AND ($1::text IS NULL OR n.oid IS NOT NULL)`, [on.schema ?? null, on.forRole, type.defacl, type.acldefault, grantee]);
      break;
    }
  }
  if (!result.rowCount) return undefined;
  return new Set<string>(result.rows[0].present);
}

/** The privileges of `s` in effect: held for a grant, absent for a revoke. */
export async function inEffect(c: Client, s: State): Promise<string[] | undefined> {
  const present = await held(c, s);
  if (!present) return undefined;
  return s.privileges.filter((p) => (s.action === "grant" ? present.has(p) : !present.has(p)));
}
