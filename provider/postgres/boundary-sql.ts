// One workspace's PostgreSQL boundary, converged in one transaction: its three roles, its schema,
// the sealed-credentials table, the grants of components/grants.ts, and the removal of every
// privilege that crosses the boundary (someone else reaching in, or its roles reaching out).
//
// What runs where: only DDL, GRANT/REVOKE and catalog reads run as the admin, and none of them
// executes code a workspace can change (no DML on workspace tables, no function the workspace
// defines: the search_path is pinned to pg_catalog). Rows of the credentials table are written in
// provider/resources/credentials.ts, as the owner role, after lockVerified.
import { CREDENTIALS_TABLE, type WorkspaceNames } from "../../components/naming.ts";
import { lock, type Sql } from "./client.ts";
import { ensureCredentialsTable, tableStatus } from "./credentials-table.ts";
import { apply, DEFAULT_TYPES, inEffect, type Grant } from "./grants-sql.ts";
import { ensureRole, findRoles, manage } from "./roles.ts";

export interface BoundarySpec {
  readonly names: WorkspaceNames;
  readonly database: string;
  readonly appPassword: string;
  /** The app role's CONNECTION LIMIT (provider/postgres/roles.ts connectionLimitOf; default 20). */
  readonly connectionLimit?: number;
  /** By stable id (components/grants.ts). */
  readonly grants: Readonly<Record<string, Grant>>;
}

/** A privilege that crosses the boundary, as found in the catalogs. */
export interface Outsider {
  readonly kind: "schema" | "relation" | "sequence" | "function" | "default" | "member-of" | "has-member" | "database";
  /** The other party: a role name, or PUBLIC. */
  readonly role: string;
  /** What it concerns (an object of the workspace, a role, a schema). */
  readonly object: string;
  readonly detail: string;
}

export const describeOutsider = (o: Outsider) => `${o.kind} ${o.object} ${o.role} ${o.detail}`;

const roleList = (n: WorkspaceNames) => [n.owner, n.app, n.readonly];

/** Every privilege crossing the boundary of `n` (see Outsider), sorted. One query. */
export async function findOutsiders(sql: Sql, n: WorkspaceNames, database: string): Promise<Outsider[]> {
  const rows = (await sql.query(`WITH ours AS (SELECT oid, rolname FROM pg_catalog.pg_roles WHERE rolname = ANY($1::text[])),
      s AS (SELECT oid, nspname FROM pg_catalog.pg_namespace WHERE nspname = $2),
      name AS (SELECT 0::oid AS oid, 'PUBLIC' AS rolname UNION ALL SELECT oid, rolname FROM pg_catalog.pg_roles)
    SELECT 'schema' AS kind, g.rolname AS role, s.nspname AS object, a.privilege_type AS detail
      FROM s JOIN pg_catalog.pg_namespace ns ON ns.oid = s.oid CROSS JOIN LATERAL pg_catalog.aclexplode(ns.nspacl) a JOIN name g ON g.oid = a.grantee
      WHERE a.grantee NOT IN (SELECT oid FROM ours)
    UNION ALL
    SELECT CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'relation' END, g.rolname, c.relname::text, a.privilege_type
      FROM s JOIN pg_catalog.pg_class c ON c.relnamespace = s.oid CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a JOIN name g ON g.oid = a.grantee
      WHERE a.grantee NOT IN (SELECT oid FROM ours) AND a.grantee <> c.relowner
    UNION ALL
    SELECT 'function', g.rolname, p.proname::text, a.privilege_type
      FROM s JOIN pg_catalog.pg_proc p ON p.pronamespace = s.oid CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a JOIN name g ON g.oid = a.grantee
      WHERE a.grantee NOT IN (SELECT oid FROM ours) AND a.grantee <> p.proowner
    UNION ALL
    SELECT 'default', g.rolname, o.rolname || ':' || coalesce(dn.nspname::text, '') || ':' || d.defaclobjtype::text, a.privilege_type
      FROM pg_catalog.pg_default_acl d JOIN ours o ON o.oid = d.defaclrole LEFT JOIN pg_catalog.pg_namespace dn ON dn.oid = d.defaclnamespace
      CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) a JOIN name g ON g.oid = a.grantee
      WHERE a.grantee NOT IN (SELECT oid FROM ours) AND (a.grantee <> 0 OR d.defaclnamespace <> 0)
    UNION ALL
    SELECT 'member-of', r.rolname, o.rolname, 'membership' FROM pg_catalog.pg_auth_members m JOIN ours o ON o.oid = m.member JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
    UNION ALL
    SELECT 'has-member', r.rolname, o.rolname, 'membership' FROM pg_catalog.pg_auth_members m JOIN ours o ON o.oid = m.roleid JOIN pg_catalog.pg_roles r ON r.oid = m.member
      WHERE r.rolname <> current_user AND r.oid NOT IN (SELECT oid FROM ours)
        -- The read-only role is meant to be granted to people (support, reporting), never to
        -- another workspace's roles; the owner and app roles to nobody but the admin.
        AND (o.rolname <> $4 OR r.rolname ~ '__(owner|app|ro)$')
    UNION ALL
    SELECT 'database', o.rolname, db.datname::text, a.privilege_type
      FROM pg_catalog.pg_database db CROSS JOIN LATERAL pg_catalog.aclexplode(db.datacl) a JOIN ours o ON o.oid = a.grantee
      WHERE db.datname = $3 AND a.privilege_type <> 'CONNECT'`, [roleList(n), n.schema, database, n.readonly])).rows as Outsider[];
  return rows.sort((a, b) => describeOutsider(a).localeCompare(describeOutsider(b)));
}

/** Takes back one crossing privilege. Identifiers come from the catalogs and are quoted. */
async function revokeOutsider(sql: Sql, n: WorkspaceNames, o: Outsider): Promise<void> {
  const id = (x: string) => (x === "PUBLIC" ? "PUBLIC" : sql.escapeIdentifier(x));
  const schema = sql.escapeIdentifier(n.schema);
  switch (o.kind) {
    case "schema": return void (await sql.query(`REVOKE ALL ON SCHEMA ${schema} FROM ${id(o.role)}`));
    case "relation": return void (await sql.query(`REVOKE ALL ON TABLE ${schema}.${sql.escapeIdentifier(o.object)} FROM ${id(o.role)}`));
    case "sequence": return void (await sql.query(`REVOKE ALL ON SEQUENCE ${schema}.${sql.escapeIdentifier(o.object)} FROM ${id(o.role)}`));
    case "function": return void (await sql.query(`REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ${schema} FROM ${id(o.role)}`));
    case "default": {
      const [forRole, inSchema, type] = o.object.split(":") as [string, string, string];
      const on = Object.values(DEFAULT_TYPES).find((t) => t.defacl === type)?.sql ?? "TABLES";
      const where = inSchema ? ` IN SCHEMA ${sql.escapeIdentifier(inSchema)}` : "";
      return void (await sql.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${sql.escapeIdentifier(forRole)}${where} REVOKE ALL ON ${on} FROM ${id(o.role)}`));
    }
    case "member-of": return void (await sql.query(`REVOKE ${sql.escapeIdentifier(o.role)} FROM ${sql.escapeIdentifier(o.object)} CASCADE`));
    case "has-member": return void (await sql.query(`REVOKE ${sql.escapeIdentifier(o.object)} FROM ${sql.escapeIdentifier(o.role)} CASCADE`));
    case "database": return void (await sql.query(`REVOKE ${o.detail === "TEMPORARY" ? "TEMPORARY" : o.detail} ON DATABASE ${sql.escapeIdentifier(o.object)} FROM ${sql.escapeIdentifier(o.role)}`));
  }
}

/** Creates or repairs the whole boundary. Call inside inTransaction. */
export async function convergeBoundary(sql: Sql, spec: BoundarySpec): Promise<void> {
  const n = spec.names;
  await lock(sql, `boundary:${n.schema}`);
  const roles = await findRoles(sql, roleList(n));
  await ensureRole(sql, n.owner, roles.get(n.owner), false);
  await ensureRole(sql, n.app, roles.get(n.app), true, spec.appPassword, spec.connectionLimit);
  await ensureRole(sql, n.readonly, roles.get(n.readonly), false);

  const schema = sql.escapeIdentifier(n.schema);
  const owner = await sql.query("SELECT pg_catalog.pg_get_userbyid(nspowner) AS owner FROM pg_catalog.pg_namespace WHERE nspname = $1", [n.schema]);
  if (!owner.rowCount) await sql.query(`CREATE SCHEMA ${schema} AUTHORIZATION ${sql.escapeIdentifier(n.owner)}`);
  else if (owner.rows[0].owner !== n.owner) await sql.query(`ALTER SCHEMA ${schema} OWNER TO ${sql.escapeIdentifier(n.owner)}`);

  await ensureCredentialsTable(sql, { schema: n.schema, owner: n.owner, app: n.app });
  for (const o of await findOutsiders(sql, n, spec.database)) {
    await revokeOutsider(sql, n, o).catch((error: Error) => {
      throw new Error(`cannot take back ${describeOutsider(o)} crossing the boundary of ${n.schema}: ${error.message}`);
    });
  }
  const left = await findOutsiders(sql, n, spec.database);
  if (left.length > 0) {
    // REVOKE says nothing when the grant was made by a role the admin cannot act for.
    throw new Error(`${left.length} privilege(s) crossing the boundary of ${n.schema} could not be taken back (granted by a role the admin cannot act for, such as a superuser; a superuser must revoke them): ${left.map(describeOutsider).join("; ")}`);
  }
  const databaseGrants = Object.values(spec.grants).filter((g) => g.on.kind === "database");
  for (const g of Object.values(spec.grants)) if (g.on.kind !== "database") await apply(sql, g, g.action, g.privileges);
  // The database's ACL is one catalog row every workspace changes: last, under one lock, so
  // concurrent workspaces queue only for the end of their transactions.
  await lock(sql, `database:${spec.database}`);
  for (const g of databaseGrants) await apply(sql, g, g.action, g.privileges);
}

export interface BoundaryFound {
  /** Role name -> its attributes as SQL keywords ("LOGIN", "NOLOGIN SUPERUSER"); absent roles left out. */
  readonly roles: Record<string, string>;
  /** Owner of the schema; "" when the schema does not exist. */
  readonly schemaOwner: string;
  /** "ok", "absent", or what is wrong with the credentials table. */
  readonly credentialsTable: string;
  /** Grant id -> privileges in effect (missing ids: nothing in effect). */
  readonly grants: Record<string, Grant>;
  readonly outsiders: readonly string[];
  /** The app role's CONNECTION LIMIT (-1: none); absent when the role does not exist. */
  readonly connectionLimit?: number;
}

/** The boundary as it is, for refresh and import; undefined when none of it exists. */
export async function readBoundary(sql: Sql, n: WorkspaceNames, database: string, grants: Readonly<Record<string, Grant>>): Promise<BoundaryFound | undefined> {
  const roles = await findRoles(sql, roleList(n));
  const owner = await sql.query("SELECT pg_catalog.pg_get_userbyid(nspowner) AS owner FROM pg_catalog.pg_namespace WHERE nspname = $1", [n.schema]);
  if (roles.size === 0 && !owner.rowCount) return undefined;
  const inForce: Record<string, Grant> = {};
  for (const [id, g] of Object.entries(grants)) {
    const privileges = await inEffect(sql, g);
    if (privileges && privileges.length > 0) inForce[id] = { ...g, privileges };
  }
  return {
    roles: Object.fromEntries([...roles].map(([name, r]) => [name, [r.login ? "LOGIN" : "NOLOGIN", ...r.elevated].join(" ")])),
    schemaOwner: owner.rows[0]?.owner ?? "",
    credentialsTable: owner.rowCount ? await tableStatus(sql, { schema: n.schema, owner: n.owner, app: n.app }) : "absent",
    grants: inForce,
    outsiders: (await findOutsiders(sql, n, database)).map(describeOutsider),
    ...(roles.has(n.app) ? { connectionLimit: roles.get(n.app)!.connectionLimit } : {}),
  };
}

/**
 * Decommissioning: what the app and read-only roles own passes to the owner, the schema goes with
 * everything in it, then the roles. No statement here runs workspace code: REASSIGN, DROP OWNED
 * and DROP SCHEMA ... CASCADE change catalogs only (event triggers, which could run code on DROP,
 * need a superuser to create).
 */
export async function dropBoundary(sql: Sql, n: WorkspaceNames, database: string): Promise<void> {
  await lock(sql, `boundary:${n.schema}`);
  await lock(sql, `database:${database}`);
  const roles = await findRoles(sql, roleList(n));
  for (const role of roles.keys()) await manage(sql, role);
  const owner = roles.has(n.owner) ? sql.escapeIdentifier(n.owner) : "CURRENT_USER";
  for (const role of [n.app, n.readonly]) {
    if (!roles.has(role)) continue;
    await sql.query(`REASSIGN OWNED BY ${sql.escapeIdentifier(role)} TO ${owner}`);
    await sql.query(`DROP OWNED BY ${sql.escapeIdentifier(role)}`);
  }
  await sql.query(`DROP SCHEMA IF EXISTS ${sql.escapeIdentifier(n.schema)} CASCADE`);
  if (roles.has(n.owner)) await sql.query(`DROP OWNED BY ${sql.escapeIdentifier(n.owner)}`);
  for (const role of [n.app, n.readonly, n.owner]) if (roles.has(role)) await sql.query(`DROP ROLE ${sql.escapeIdentifier(role)}`);
}

export { CREDENTIALS_TABLE };
