// Applies a model straight to PostgreSQL, without the engine: the control-plane migrations and
// rows through the components' own SQL (components/control-plane/*-sql.ts), and each
// workspace's schema, roles and grants (components/grants.ts) as catalog DDL. For the audit's
// benchmark at 1,000 workspaces and for reader tests that need a tenancy in seconds; the e2e
// test applies the real stack with the real engine instead.
import type pg from "pg";
import type { TenancyModel } from "../config/model.ts";
import { organizationRecordArgs, workspaceMembersArgs, workspaceRecordArgs } from "../components/control-plane/args.ts";
import { MIGRATIONS, checksum } from "../components/control-plane/migrations.ts";
import { writeOrganization } from "../components/control-plane/organization-sql.ts";
import { writeMembers, writeWorkspace } from "../components/control-plane/workspace-sql.ts";
import { workspaceGrants, type GrantDescriptor } from "../components/grants.ts";
import { CONTROL_SCHEMA, CREDENTIALS_TABLE, WORKSPACE_ROLE_LOGIN, workspaceNames } from "../components/naming.ts";
import { convergeAuditor } from "../provider/postgres/auditor-sql.ts";
import { CREDENTIALS_COLUMNS } from "../provider/postgres/credentials-table.ts";

type Client = Pick<pg.Client, "query" | "escapeIdentifier" | "escapeLiteral">;

/** The SQL of one grant descriptor (the statements the grant resources run). */
export function grantSql(g: GrantDescriptor, quote: (name: string) => string): string[] {
  const verb = g.action === "grant" ? `GRANT ${g.privileges.join(", ")}` : `REVOKE ${g.privileges.join(", ")}`;
  const who = `${g.action === "grant" ? "TO" : "FROM"} ${g.role === "PUBLIC" ? "PUBLIC" : quote(g.role)}`;
  const on = g.on;
  switch (on.kind) {
    case "database": return [`${verb} ON DATABASE ${quote(on.database)} ${who}`];
    case "schema": return [`${verb} ON SCHEMA ${quote(on.schema)} ${who}`];
    case "all-tables-in-schema":
      return [`${verb} ON ALL TABLES IN SCHEMA ${quote(on.schema)} ${who}`,
        ...(on.except ?? []).map((t) => `DO $$ BEGIN IF to_regclass(${quoteLiteral(`${quote(on.schema)}.${quote(t)}`)}) IS NOT NULL THEN REVOKE ${g.privileges.join(", ")} ON ${quote(on.schema)}.${quote(t)} ${who.replace(/^TO/, "FROM")}; END IF; END $$`)];
    case "default-privileges":
      return [`ALTER DEFAULT PRIVILEGES FOR ROLE ${quote(on.forRole)}${on.schema === undefined ? "" : ` IN SCHEMA ${quote(on.schema)}`} ${verb} ON ${on.objectType.toUpperCase()} ${who}`];
  }
}

const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Creates the control-plane schema and applies every migration, recording them as the component does. */
export async function migrateControlPlane(c: Client): Promise<void> {
  const s = c.escapeIdentifier(CONTROL_SCHEMA);
  await c.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await c.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  for (const m of MIGRATIONS) {
    const done = await c.query(`SELECT 1 FROM ${s}.schema_migrations WHERE version = $1`, [m.version]);
    if (done.rowCount) continue;
    await c.query(m.sql);
    await c.query(`INSERT INTO ${s}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, checksum(m.sql)]);
  }
}

/**
 * Applies `model` in one transaction: control-plane rows and the auditor role, and per workspace its roles, schema,
 * sealed-credentials table (owner's, SELECT for the app role only) and grants. `database` is
 * the connection's database.
 */
export async function applyDirect(c: Client, model: TenancyModel, database: string): Promise<void> {
  const org = model.organization!;
  const quote = (n: string) => c.escapeIdentifier(n);
  await c.query("BEGIN");
  try {
    // As the provider's ControlPlane does: nobody connects by default (provider/resources/control-plane.ts).
    await c.query(`REVOKE ALL ON DATABASE ${quote(database)} FROM PUBLIC`);
    await migrateControlPlane(c);
    // The auditor role, as the provider's ControlPlane makes it.
    await convergeAuditor(c, database);
    await writeOrganization(c, organizationRecordArgs(model));
    for (const ws of model.workspaces) {
      await writeWorkspace(c, workspaceRecordArgs(model, ws, { decommissioned: ws.decommissioned }));
      await writeMembers(c, workspaceMembersArgs(model, ws));
      const names = workspaceNames(org.slug, ws.slug);
      const ddl: string[] = [];
      for (const [part, login] of Object.entries(WORKSPACE_ROLE_LOGIN)) ddl.push(`CREATE ROLE ${quote(names[part as keyof typeof WORKSPACE_ROLE_LOGIN])} ${login ? "LOGIN" : "NOLOGIN"}`);
      ddl.push(`CREATE SCHEMA ${quote(names.schema)} AUTHORIZATION ${quote(names.owner)}`);
      const table = `${quote(names.schema)}.${quote(CREDENTIALS_TABLE)}`;
      ddl.push(`CREATE TABLE ${table} ${CREDENTIALS_COLUMNS}`);
      ddl.push(`ALTER TABLE ${table} OWNER TO ${quote(names.owner)}`, `REVOKE ALL ON TABLE ${table} FROM PUBLIC`, `GRANT SELECT ON TABLE ${table} TO ${quote(names.app)}`);
      for (const g of workspaceGrants(names, database)) ddl.push(...grantSql(g, quote));
      await c.query(ddl.join(";\n"));
    }
    await c.query("COMMIT");
  } catch (error) {
    await c.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
