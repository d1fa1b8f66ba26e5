// The control plane's records (schema tenancy_control, shared by every organization on a
// server): its migrations, one organization's rows, and one workspace's rows with its members.
// All of it is owned by the admin and touched only by the admin; no workspace role can reach it
// (test/e2e isolation tests), so none of its statements can run workspace code.
import type { OrganizationRecordArgs, WorkspaceMembersArgs, WorkspaceRecordArgs } from "../../components/control-plane/args.ts";
import { memberChanges } from "../../components/control-plane/diff.ts";
import { migrationInputs, migrationOrderProblems, planMigrations, type AppliedMigration, type MigrationInput } from "../../components/control-plane/migrations.ts";
import { deleteOrganization, readOrganization, writeOrganization } from "../../components/control-plane/organization-sql.ts";
import { deleteWorkspace, readMembers, readWorkspace, writeMembers, writeWorkspace } from "../../components/control-plane/workspace-sql.ts";
import { organizationRecordProblems, workspaceRecordProblems } from "../../components/control-plane/problems.ts";
import { workspaceNames } from "../../components/naming.ts";
import { auditorStatus, convergeAuditor } from "../postgres/auditor-sql.ts";
import { inTransaction, type Sql } from "../postgres/client.ts";
import { lock } from "../postgres/locks.ts";
import { assertDroppable } from "../postgres/decommission-sql.ts";
import type { DiffKind, ResourceKind } from "../server.ts";
import { mapDiff, propertyDiff } from "./common.ts";

export const CONTROL_PLANE = "tenancy:control:ControlPlane";
export const ORGANIZATION_RECORD = "tenancy:control:OrganizationRecord";
export const WORKSPACE_RECORD = "tenancy:control:WorkspaceRecord";

interface ControlPlaneInputs { readonly schema: string; readonly database: string; readonly migrations: readonly MigrationInput[] }
/**
 * `auditor`: "ok", or what is wrong with the auditor role (provider/postgres/auditor-sql.ts) as
 * a refresh found it. The role is the control plane's: one per server, like the schema it reads.
 */
interface ControlPlaneState extends ControlPlaneInputs { readonly auditor: string }

/** Applies pending migrations (one transaction, one lock for every stack on the server). */
async function migrate(sql: Sql, inputs: ControlPlaneInputs): Promise<AppliedMigration[]> {
  await lock(sql, "control-plane-migrations");
  // Least privilege on the database: nobody connects or makes temporary tables by default; each
  // workspace's roles get CONNECT explicitly (components/grants.ts).
  await lock(sql, `database:${inputs.database}`);
  await sql.query(`REVOKE ALL ON DATABASE ${sql.escapeIdentifier(inputs.database)} FROM PUBLIC`);
  await sql.query(`CREATE SCHEMA IF NOT EXISTS ${sql.escapeIdentifier(inputs.schema)}`);
  await sql.query(`REVOKE ALL ON SCHEMA ${sql.escapeIdentifier(inputs.schema)} FROM PUBLIC`);
  const ledger = `${sql.escapeIdentifier(inputs.schema)}.schema_migrations`;
  await sql.query(`CREATE TABLE IF NOT EXISTS ${ledger} (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const applied = (await sql.query(`SELECT version, checksum FROM ${ledger} ORDER BY version`)).rows as AppliedMigration[];
  const plan = planMigrations([...inputs.migrations], applied);
  if (!plan.ok) throw new Error(plan.problem);
  for (const m of plan.pending) {
    await sql.query(m.sql);
    await sql.query(`INSERT INTO ${ledger} (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, m.checksum]);
  }
  return [...applied, ...plan.pending.map((m) => ({ version: m.version, checksum: m.checksum }))];
}

/** Migrations, then the auditor role that reads what they made: one transaction. */
async function converge(sql: Sql, inputs: ControlPlaneInputs): Promise<ControlPlaneState> {
  await migrate(sql, inputs);
  await convergeAuditor(sql, inputs.database);
  return { ...inputs, auditor: "ok" };
}

const versions = (m: readonly { version: number; checksum: string }[] | undefined) => (m ?? []).map((x) => `${x.version}:${x.checksum}`).join(",");

export const controlPlaneKind: ResourceKind<ControlPlaneInputs, ControlPlaneState> = {
  token: CONTROL_PLANE,
  check: (news) => migrationOrderProblems([...(news.migrations ?? [])]).map((reason) => ({ property: "migrations", reason })),
  diff(olds, news) {
    const detailedDiff: Record<string, DiffKind> = {};
    if (versions(olds.migrations) !== versions(news.migrations)) detailedDiff.migrations = "update";
    if (olds.schema !== news.schema) detailedDiff.schema = "update";
    if (olds.database !== news.database) detailedDiff.database = "update";
    // Drifted, or state written before the provider made the role: converge it.
    if (olds.auditor !== "ok") detailedDiff.auditor = "update";
    return { replaces: [], detailedDiff };
  },
  async create(inputs, ctx) {
    return { id: inputs.schema, outs: await inTransaction(ctx.connection, (sql) => converge(sql, inputs)) };
  },
  async read(id, state, ctx) {
    const database = state?.database ?? ctx.connection.database;
    const found = await inTransaction(ctx.connection, async (sql) => {
      const ledger = await sql.query("SELECT pg_catalog.to_regclass($1) AS t", [`${sql.escapeIdentifier(id)}.schema_migrations`]);
      if (ledger.rows[0]?.t === null) return undefined;
      const applied = (await sql.query(`SELECT version, checksum FROM ${sql.escapeIdentifier(id)}.schema_migrations`)).rows as AppliedMigration[];
      return { applied, auditor: await auditorStatus(sql, database) };
    });
    if (!found) return undefined;
    const recorded = new Set(found.applied.map((a) => `${a.version}:${a.checksum}`));
    const known = state?.migrations ?? migrationInputs();
    const inputs = { schema: id, database, migrations: known.filter((m) => recorded.has(`${m.version}:${m.checksum}`)) };
    return { outs: { ...inputs, auditor: found.auditor }, inputs };
  },
  async update(_id, _olds, news, ctx) {
    return inTransaction(ctx.connection, (sql) => converge(sql, news));
  },
  // Deliberately nothing: other organizations' records and the SaaS's `users` live there.
  async delete() {},
};

export const organizationRecordKind: ResourceKind<OrganizationRecordArgs, OrganizationRecordArgs> = {
  token: ORGANIZATION_RECORD,
  check: (news) => organizationRecordProblems(news),
  diff(olds, news) {
    const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((k) => k !== "people");
    const detailedDiff = propertyDiff(olds as never, news as never, keys, ["slug"]);
    // The directory, per person.
    Object.assign(detailedDiff, mapDiff("people", olds.people, news.people));
    return { replaces: detailedDiff.slug ? ["slug"] : [], detailedDiff };
  },
  async create(inputs, ctx) {
    await inTransaction(ctx.connection, (sql) => writeOrganization(sql, inputs));
    return { id: inputs.slug, outs: inputs };
  },
  async read(id, _state, ctx) {
    const found = await inTransaction(ctx.connection, (sql) => readOrganization(sql, id));
    return found ? { outs: found, inputs: found } : undefined;
  },
  async update(_id, _olds, news, ctx) {
    await inTransaction(ctx.connection, (sql) => writeOrganization(sql, news));
    return news;
  },
  async delete(id, _state, ctx) {
    await inTransaction(ctx.connection, (sql) => deleteOrganization(sql, id));
  },
};

/** A workspace's rows and its authoritative member list (email key -> role), in one resource. */
export type WorkspaceRecordInputs = WorkspaceRecordArgs & Pick<WorkspaceMembersArgs, "members">;

async function writeAll(sql: Sql, w: WorkspaceRecordInputs): Promise<void> {
  const { members, ...record } = w;
  await writeWorkspace(sql, record);
  await writeMembers(sql, { organization: w.organization, workspace: w.slug, members });
}

export const workspaceRecordKind: ResourceKind<WorkspaceRecordInputs, WorkspaceRecordInputs> = {
  token: WORKSPACE_RECORD,
  check(news) {
    const failures = workspaceRecordProblems(news);
    for (const [email, role] of Object.entries(news.members ?? {})) {
      if (!email.includes("@") || email !== email.normalize("NFKC").toLowerCase() || typeof role !== "string" || role === "") {
        failures.push({ property: "members", reason: `member key ${JSON.stringify(email)} must be an email's comparison key (NFKC, lower case) mapped to a role` });
      }
    }
    return failures;
  },
  diff(olds, news) {
    const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].filter((k) => k !== "members");
    const detailedDiff = propertyDiff(olds as never, news as never, keys, ["organization", "slug"]);
    for (const c of memberChanges(olds.members ?? {}, news.members ?? {})) detailedDiff[`members[${JSON.stringify(c.email)}]`] = c.kind;
    return { replaces: ["organization", "slug"].filter((k) => detailedDiff[k]), detailedDiff };
  },
  async create(inputs, ctx) {
    await inTransaction(ctx.connection, (sql) => writeAll(sql, inputs));
    return { id: `${inputs.organization}/${inputs.slug}`, outs: inputs };
  },
  async read(id, _state, ctx) {
    const [organization, slug] = id.split("/") as [string, string];
    const found = await inTransaction(ctx.connection, async (sql) => {
      const record = await readWorkspace(sql, organization, slug);
      return record && { ...record, members: (await readMembers(sql, organization, slug)) ?? {} };
    });
    return found ? { outs: found, inputs: found } : undefined;
  },
  async update(_id, _olds, news, ctx) {
    await inTransaction(ctx.connection, (sql) => writeAll(sql, news));
    return news;
  },
  async delete(_id, state, ctx) {
    // Deleted beside its boundary: if the boundary's roles could not be dropped, the record stays.
    await assertDroppable(ctx.connection, workspaceNames(state.organization, state.slug), "the control-plane record");
    await inTransaction(ctx.connection, (sql) => deleteWorkspace(sql, state.organization, state.slug));
  },
};
