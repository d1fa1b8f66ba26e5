// The auditor role: what `tenancy audit` needs and nothing more. Pure (no Pulumi, no SQL
// connection): the provider's ControlPlane kind creates and converges the role from these
// descriptors (provider/postgres/auditor-sql.ts), and the audit expects exactly them.
//
// `tenancy_auditor` (AUDITOR_ROLE) is NOLOGIN: grant it to a person's or a pipeline's LOGIN role
// (`GRANT tenancy_auditor TO alice`). It holds CONNECT on the database, USAGE on the control-plane
// schema and SELECT on its tables (now and, through the admin's default privileges, those later
// migrations add). The PostgreSQL catalogs (roles, memberships, ACLs, default privileges) are
// readable by every role already. It gets nothing in any workspace schema: it can see that a
// table exists and who may read it, never a row of it.
import { AUDITOR_ROLE, CONTROL_SCHEMA } from "./naming.ts";
import { grantProblems, type GrantDescriptor } from "./grants.ts";

/** What the auditor role must be: no login of its own, nothing elevated. */
export const AUDITOR_LOGIN = false;

/** What the auditor may hold on the control plane and the database, privilege by object kind. */
export const AUDITOR_PRIVILEGES = { database: "CONNECT", schema: "USAGE", table: "SELECT" } as const;

/**
 * The auditor's grants. `admin` is the role that runs the control-plane migrations: its future
 * tables in the control plane become readable too.
 */
export function auditorGrants(database: string, admin: string): GrantDescriptor[] {
  const role = AUDITOR_ROLE;
  const descriptors: GrantDescriptor[] = [
    { id: "auditor-connect", action: "grant", role, on: { kind: "database", database }, privileges: [AUDITOR_PRIVILEGES.database] },
    { id: "auditor-control-schema", action: "grant", role, on: { kind: "schema", schema: CONTROL_SCHEMA }, privileges: [AUDITOR_PRIVILEGES.schema] },
    { id: "auditor-control-tables", action: "grant", role, on: { kind: "all-tables-in-schema", schema: CONTROL_SCHEMA }, privileges: [AUDITOR_PRIVILEGES.table] },
    {
      id: "auditor-control-future-tables", action: "grant", role,
      on: { kind: "default-privileges", forRole: admin, schema: CONTROL_SCHEMA, objectType: "tables" }, privileges: [AUDITOR_PRIVILEGES.table],
    },
  ];
  const problems = descriptors.flatMap(grantProblems);
  if (problems.length > 0) throw new Error(`auditor grants: ${problems.join("; ")}`);
  return descriptors;
}
