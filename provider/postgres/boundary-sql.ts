// One workspace's PostgreSQL boundary, converged in one transaction: its three roles, its schema,
// the sealed-credentials table, the grants of components/grants.ts, and the removal of every
// privilege that crosses the boundary (someone else reaching in, or its roles reaching out).
//
// What runs where: only DDL, GRANT/REVOKE and catalog reads run as the admin, and none of them
// executes code a workspace can change (no DML on workspace tables, no function the workspace
// defines: the search_path is pinned to pg_catalog). Rows of the credentials table are written in
// provider/resources/credentials.ts, as the owner role, after lockVerified.
import { CREDENTIALS_TABLE, type WorkspaceNames } from "../../components/naming.ts";
import type { Sql } from "./client.ts";
import { lock } from "./locks.ts";
import { ensureCredentialsTable, tableStatus } from "./credentials-table.ts";
import { apply, inEffect, type Grant } from "./grants-sql.ts";
import { databasesOwnedIn, describeCrossing, findCrossings, otherDatabaseReach, revokeOtherDatabases, takeBack, type Crossing } from "./crossings-sql.ts";
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

const roleList = (n: WorkspaceNames) => [n.owner, n.app, n.readonly];

/**
 * Creates or repairs the whole boundary. Call inside inTransaction. Returns the crossing
 * privileges it could not take back (granted by a role the admin cannot act for, such as a
 * superuser): they are reported, and the rest of the boundary is converged all the same.
 */
export async function convergeBoundary(sql: Sql, spec: BoundarySpec): Promise<Converged> {
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
  const left = await takeBack(sql, n, spec.database);
  const databaseGrants = Object.values(spec.grants).filter((g) => g.on.kind === "database");
  for (const g of Object.values(spec.grants)) if (g.on.kind !== "database") await apply(sql, g, g.action, g.privileges);
  // The database's ACL is one catalog row every workspace changes: last, under one lock, so
  // concurrent workspaces queue only for the end of their transactions.
  await lock(sql, `database:${spec.database}`);
  for (const g of databaseGrants) await apply(sql, g, g.action, g.privileges);
  return { notTakenBack: left, otherDatabases: await revokeOtherDatabases(sql, n, spec.database).then(() => otherDatabaseReach(sql, n, spec.database)), ownedElsewhere: await databasesOwnedIn(sql, n) };
}

export interface Converged {
  /** Crossing privileges the admin could not take back in the workspace's database. */
  readonly notTakenBack: readonly Crossing[];
  /** Other databases the app role can still connect to (otherDatabaseReach). */
  readonly otherDatabases: readonly string[];
  /** Other databases where the workspace's roles own objects: their grants are taken back there. */
  readonly ownedElsewhere: readonly { database: string; reachable: boolean }[];
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
  readonly otherDatabases: readonly string[];
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
    outsiders: (await findCrossings(sql, n, database)).map(describeCrossing),
    otherDatabases: await otherDatabaseReach(sql, n, database),
    ...(roles.has(n.app) ? { connectionLimit: roles.get(n.app)!.connectionLimit } : {}),
  };
}

export { CREDENTIALS_TABLE };
