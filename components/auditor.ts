// The organization's auditor role: what `tenancy audit` needs and nothing more. Pure (no
// Pulumi, no SQL connection): the Organization component applies these descriptors, and the
// audit's e2e test creates the role from the same statements.
//
// `<org>__auditor` is NOLOGIN: grant it to a person's or a pipeline's LOGIN role
// (`GRANT "acme__auditor" TO alice`). It holds CONNECT on the database, USAGE on the control-plane
// schema and SELECT on its tables (now and, through the admin's default privileges, those later
// migrations add). The PostgreSQL catalogs (roles, memberships, ACLs, default privileges) are
// readable by every role already. It gets nothing in any workspace schema: it can see that a
// table exists and who may read it, never a row of it.
import { CONTROL_SCHEMA, PG_IDENTIFIER, workspaceNames } from "./naming.ts";
import { grantProblems, type GrantDescriptor } from "./grants.ts";

/** `<org>__auditor`, with the organization's dashes as underscores like every derived name. */
export function auditorRoleName(organization: string): string {
  return `${workspaceNames(organization, "").schema}auditor`;
}

/** Attributes of the auditor role: no login of its own, nothing elevated. */
export const AUDITOR_ATTRIBUTES = "NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS";

/**
 * The auditor's grants. `admin` is the role that runs the control-plane migrations: its future
 * tables in the control plane become readable too.
 */
export function auditorGrants(organization: string, database: string, admin: string): GrantDescriptor[] {
  const role = auditorRoleName(organization);
  const descriptors: GrantDescriptor[] = [
    { id: "auditor-connect", action: "grant", role, on: { kind: "database", database }, privileges: ["CONNECT"] },
    { id: "auditor-control-schema", action: "grant", role, on: { kind: "schema", schema: CONTROL_SCHEMA }, privileges: ["USAGE"] },
    { id: "auditor-control-tables", action: "grant", role, on: { kind: "all-tables-in-schema", schema: CONTROL_SCHEMA }, privileges: ["SELECT"] },
    {
      id: "auditor-control-future-tables", action: "grant", role,
      on: { kind: "default-privileges", forRole: admin, schema: CONTROL_SCHEMA, objectType: "tables" }, privileges: ["SELECT"],
    },
  ];
  const problems = descriptors.flatMap(grantProblems);
  if (problems.length > 0) throw new Error(`auditor grants: ${problems.join("; ")}`);
  return descriptors;
}

/**
 * The SQL that creates the role (when `exists` is false) and applies its grants, run as `admin`.
 * `quote` is the driver's identifier quoting (pg's `escapeIdentifier`).
 */
export function auditorStatements(organization: string, database: string, admin: string, exists: boolean, quote: (name: string) => string): string[] {
  const role = auditorRoleName(organization);
  if (!PG_IDENTIFIER.test(role)) throw new Error(`auditor role name ${JSON.stringify(role)} is not a plain identifier`);
  const statements = [`${exists ? "ALTER" : "CREATE"} ROLE ${quote(role)} WITH ${AUDITOR_ATTRIBUTES}`];
  for (const g of auditorGrants(organization, database, admin)) {
    const privileges = g.privileges.join(", ");
    const to = `TO ${quote(g.role)}`;
    switch (g.on.kind) {
      case "database": statements.push(`GRANT ${privileges} ON DATABASE ${quote(g.on.database)} ${to}`); break;
      case "schema": statements.push(`GRANT ${privileges} ON SCHEMA ${quote(g.on.schema)} ${to}`); break;
      case "all-tables-in-schema": statements.push(`GRANT ${privileges} ON ALL TABLES IN SCHEMA ${quote(g.on.schema)} ${to}`); break;
      case "default-privileges":
        statements.push(`ALTER DEFAULT PRIVILEGES FOR ROLE ${quote(g.on.forRole)}${g.on.schema ? ` IN SCHEMA ${quote(g.on.schema)}` : ""} GRANT ${privileges} ON ${g.on.objectType.toUpperCase()} ${to}`);
        break;
    }
  }
  return statements;
}
