// Reads and writes of one workspace's rows: the workspace, its subscription and pool (per-workspace
// billing), export profile, agents and integration metadata; and, separately, its member list and
// invitations. Writes upsert the whole desired state (a create adopts rows already there).
import type { AgentRecord, IntegrationRecord, WorkspaceMembersArgs, WorkspaceRecordArgs } from "./args.ts";
import type { Sql } from "./db.ts";
import { table } from "./organization-sql.ts";

async function upsertOrDelete(sql: Sql, name: string, columns: readonly string[], key: readonly unknown[], values: readonly unknown[] | undefined): Promise<void> {
  if (!values) {
    await sql.query(`DELETE FROM ${table(name)} WHERE organization_slug = $1 AND workspace_slug = $2`, [...key]);
    return;
  }
  const params = columns.map((_, i) => `$${i + 3}`).join(", ");
  const set = columns.map((c) => `${c} = EXCLUDED.${c}`).join(", ");
  await sql.query(
    `INSERT INTO ${table(name)} (organization_slug, workspace_slug, ${columns.join(", ")}) VALUES ($1, $2, ${params})
     ON CONFLICT (organization_slug, workspace_slug) DO UPDATE SET ${set}`,
    [...key, ...values],
  );
}

export async function writeWorkspace(sql: Sql, w: WorkspaceRecordArgs): Promise<void> {
  const org = await sql.query(`SELECT 1 FROM ${table("organizations")} WHERE slug = $1`, [w.organization]);
  if (org.rowCount === 0) throw new Error(`organization "${w.organization}" has no row in ${table("organizations")}: apply its OrganizationRecord before workspace "${w.slug}"`);
  const key = [w.organization, w.slug] as const;
  await sql.query(
    `INSERT INTO ${table("workspaces")} AS w (organization_slug, slug, name, decommissioned) VALUES ($1, $2, $3, $4)
     ON CONFLICT (organization_slug, slug) DO UPDATE SET name = EXCLUDED.name, decommissioned = EXCLUDED.decommissioned
     WHERE (w.name, w.decommissioned) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.decommissioned)`,
    [...key, w.name, w.decommissioned],
  );
  await upsertOrDelete(sql, "workspace_subscriptions", ["plan"], key, w.plan === undefined ? undefined : [w.plan]);
  await upsertOrDelete(sql, "workspace_credit_pools", ["monthly_allowance"], key, w.creditPool && [w.creditPool.monthlyAllowance]);
  const p = w.exportProfile;
  await upsertOrDelete(sql, "export_profiles", ["letterhead", "accent_colour", "contact_block"], key, p && [p.letterhead, p.accentColour, p.contactBlock]);
  await sql.query(
    `INSERT INTO ${table("integrations")} (organization_slug, workspace_slug, slug, provider, credentials_secret_name)
     SELECT $1, $2, e.key, e.value->>'provider', e.value->>'credentialsSecret' FROM jsonb_each($3::jsonb) AS e
     ON CONFLICT (organization_slug, workspace_slug, slug) DO UPDATE SET provider = EXCLUDED.provider, credentials_secret_name = EXCLUDED.credentials_secret_name`,
    [...key, JSON.stringify(w.integrations)],
  );
  await sql.query(`DELETE FROM ${table("integrations")} WHERE organization_slug = $1 AND workspace_slug = $2 AND NOT (slug = ANY($3::text[]))`, [...key, Object.keys(w.integrations)]);
  // The style-memory key is deferred, so agents may reference each other in any order here.
  await sql.query(
    `INSERT INTO ${table("agents")} (organization_slug, workspace_slug, slug, name, style_memory_from)
     SELECT $1, $2, e.key, e.value->>'name', e.value->>'styleMemoryFrom' FROM jsonb_each($3::jsonb) AS e
     ON CONFLICT (organization_slug, workspace_slug, slug) DO UPDATE SET name = EXCLUDED.name, style_memory_from = EXCLUDED.style_memory_from`,
    [...key, JSON.stringify(w.agents)],
  );
  await sql.query(`DELETE FROM ${table("agents")} WHERE organization_slug = $1 AND workspace_slug = $2 AND NOT (slug = ANY($3::text[]))`, [...key, Object.keys(w.agents)]);
}

/** The workspace as recorded, in the shape of its declaration; undefined when it has no row. */
export async function readWorkspace(sql: Sql, organization: string, slug: string): Promise<WorkspaceRecordArgs | undefined> {
  const key = [organization, slug];
  const found = await sql.query(`SELECT name, decommissioned FROM ${table("workspaces")} WHERE organization_slug = $1 AND slug = $2`, key);
  const row = found.rows[0];
  if (!row) return undefined;
  const one = async (name: string, columns: string) =>
    (await sql.query(`SELECT ${columns} FROM ${table(name)} WHERE organization_slug = $1 AND workspace_slug = $2`, key)).rows[0];
  const subscription = await one("workspace_subscriptions", "plan");
  const pool = await one("workspace_credit_pools", "monthly_allowance");
  const profile = await one("export_profiles", "letterhead, accent_colour, contact_block");
  const integrations: Record<string, IntegrationRecord> = {};
  for (const i of (await sql.query(`SELECT slug, provider, credentials_secret_name FROM ${table("integrations")} WHERE organization_slug = $1 AND workspace_slug = $2 ORDER BY slug`, key)).rows) {
    integrations[i.slug] = { provider: i.provider, credentialsSecret: i.credentials_secret_name };
  }
  const agents: Record<string, AgentRecord> = {};
  for (const a of (await sql.query(`SELECT slug, name, style_memory_from FROM ${table("agents")} WHERE organization_slug = $1 AND workspace_slug = $2 ORDER BY slug`, key)).rows) {
    agents[a.slug] = { name: a.name, ...(a.style_memory_from === null ? {} : { styleMemoryFrom: a.style_memory_from }) };
  }
  return {
    organization,
    slug,
    name: row.name,
    decommissioned: row.decommissioned,
    ...(subscription ? { plan: subscription.plan } : {}),
    ...(pool ? { creditPool: { monthlyAllowance: Number(pool.monthly_allowance) } } : {}),
    ...(profile ? { exportProfile: { letterhead: profile.letterhead, accentColour: profile.accent_colour, contactBlock: profile.contact_block } } : {}),
    agents,
    integrations,
  };
}

/**
 * Removes the workspace row and, through ON DELETE CASCADE, everything of it: subscription, pool,
 * export profile, agents, integrations, memberships and invitations. Pending invitations are
 * deleted rather than marked revoked: the workspace is a hard data boundary and nothing of it
 * outlives it; an invitation link then finds nothing, which refuses as surely as `revoked`,
 * and a workspace later created with the same slug starts with no history to skip invitations on.
 */
export async function deleteWorkspace(sql: Sql, organization: string, slug: string): Promise<void> {
  await sql.query(`DELETE FROM ${table("workspaces")} WHERE organization_slug = $1 AND slug = $2`, [organization, slug]);
}

/**
 * Makes the workspace's memberships exactly `m.members`, and invites every member who is not an
 * active user (no `users` row) and has no invitation for this organization+workspace yet. An
 * existing invitation is never touched, whatever its status: the SaaS keeps it.
 */
export async function writeMembers(sql: Sql, m: WorkspaceMembersArgs): Promise<void> {
  const key = [m.organization, m.workspace];
  // The row lock serialises two writers of one workspace's list (and a delete of the workspace).
  const ws = await sql.query(`SELECT 1 FROM ${table("workspaces")} WHERE organization_slug = $1 AND slug = $2 FOR UPDATE`, key);
  if (ws.rowCount === 0) throw new Error(`workspace "${m.workspace}" of "${m.organization}" has no row in ${table("workspaces")}: apply its WorkspaceRecord before its members`);
  const emails = Object.keys(m.members);
  const roles = emails.map((e) => m.members[e]);
  const strangers = await sql.query(
    `SELECT e FROM unnest($2::text[]) AS e WHERE NOT EXISTS (SELECT 1 FROM ${table("people")} p WHERE p.organization_slug = $1 AND p.email = e) ORDER BY e`,
    [m.organization, emails],
  );
  if (strangers.rows.length > 0) {
    throw new Error(`members of workspace "${m.workspace}" are not in the directory of "${m.organization}": ${strangers.rows.map((r) => r.e).join(", ")}; apply the OrganizationRecord first`);
  }
  await sql.query(`DELETE FROM ${table("memberships")} WHERE organization_slug = $1 AND workspace_slug = $2 AND NOT (email = ANY($3::text[]))`, [...key, emails]);
  await sql.query(
    `INSERT INTO ${table("memberships")} AS m (organization_slug, workspace_slug, email, role)
     SELECT $1, $2, x.email, x.role FROM unnest($3::text[], $4::text[]) AS x(email, role)
     ON CONFLICT (organization_slug, workspace_slug, email) DO UPDATE SET role = EXCLUDED.role WHERE m.role IS DISTINCT FROM EXCLUDED.role`,
    [...key, emails, roles],
  );
  await sql.query(
    `INSERT INTO ${table("invitations")} (organization_slug, workspace_slug, email)
     SELECT $1, $2, e FROM unnest($3::text[]) AS e
     WHERE NOT EXISTS (SELECT 1 FROM ${table("users")} u WHERE u.email = e)
     ON CONFLICT (organization_slug, workspace_slug, email) DO NOTHING`,
    [...key, emails],
  );
}

/** The recorded member list; undefined when the workspace has no row. */
export async function readMembers(sql: Sql, organization: string, workspace: string): Promise<Record<string, string> | undefined> {
  const key = [organization, workspace];
  const ws = await sql.query(`SELECT 1 FROM ${table("workspaces")} WHERE organization_slug = $1 AND slug = $2`, key);
  if (ws.rowCount === 0) return undefined;
  const rows = await sql.query(`SELECT email, role FROM ${table("memberships")} WHERE organization_slug = $1 AND workspace_slug = $2 ORDER BY email`, key);
  return Object.fromEntries(rows.rows.map((r) => [r.email, r.role]));
}

/** Removes every membership of the workspace; its invitations stay (their status is the SaaS's). */
export async function deleteMembers(sql: Sql, organization: string, workspace: string): Promise<void> {
  await sql.query(`DELETE FROM ${table("memberships")} WHERE organization_slug = $1 AND workspace_slug = $2`, [organization, workspace]);
}
