// Reads and writes of an organization's rows (organization, role catalogue, directory, rollup
// pool). Writes are upserts of the whole desired state, so a create that finds rows left by an
// interrupted apply adopts them. Values travel as parameters (lists as one jsonb parameter), and
// table names come from the CONTROL_SCHEMA constant, never from input.
import { CONTROL_SCHEMA } from "../naming.ts";
import type { OrganizationRecordArgs, PersonRecord } from "./args.ts";
import type { Sql } from "./db.ts";

/** A control-plane table's qualified name. */
export function table(name: string): string {
  return `${CONTROL_SCHEMA}.${name}`;
}

export async function writeOrganization(sql: Sql, o: OrganizationRecordArgs): Promise<void> {
  await sql.query(
    `INSERT INTO ${table("organizations")} AS o (slug, name, billing_mode, plan, membership_mode) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, billing_mode = EXCLUDED.billing_mode, plan = EXCLUDED.plan,
       membership_mode = EXCLUDED.membership_mode, updated_at = now()
     WHERE (o.name, o.billing_mode, o.plan, o.membership_mode) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.billing_mode, EXCLUDED.plan, EXCLUDED.membership_mode)`,
    [o.slug, o.name, o.billingMode, o.plan ?? null, o.membershipMode],
  );
  // Order matters for the people -> roles key: add roles, rewrite people, then drop what is gone.
  await sql.query(
    `INSERT INTO ${table("roles")} AS r (organization_slug, role, permissions)
     SELECT $1, e.key, ARRAY(SELECT p FROM jsonb_array_elements_text(e.value) WITH ORDINALITY AS x(p, i) ORDER BY i)
     FROM jsonb_each($2::jsonb) AS e
     ON CONFLICT (organization_slug, role) DO UPDATE SET permissions = EXCLUDED.permissions WHERE r.permissions IS DISTINCT FROM EXCLUDED.permissions`,
    [o.slug, JSON.stringify(o.roles)],
  );
  await sql.query(
    `INSERT INTO ${table("people")} AS p (organization_slug, email, display_email, name, org_role)
     SELECT $1, e.key, e.value->>'email', e.value->>'name', e.value->>'orgRole' FROM jsonb_each($2::jsonb) AS e
     ON CONFLICT (organization_slug, email) DO UPDATE SET display_email = EXCLUDED.display_email, name = EXCLUDED.name, org_role = EXCLUDED.org_role
     WHERE (p.display_email, p.name, p.org_role) IS DISTINCT FROM (EXCLUDED.display_email, EXCLUDED.name, EXCLUDED.org_role)`,
    [o.slug, JSON.stringify(o.people)],
  );
  // Removing a person from the directory removes their memberships (ON DELETE CASCADE): they
  // left the organization, and `member-in-directory` guarantees no workspace still declares them.
  await sql.query(`DELETE FROM ${table("people")} WHERE organization_slug = $1 AND NOT (email = ANY($2::text[]))`, [o.slug, Object.keys(o.people)]);
  await sql.query(`DELETE FROM ${table("roles")} WHERE organization_slug = $1 AND NOT (role = ANY($2::text[]))`, [o.slug, Object.keys(o.roles)]);
  if (o.creditPool) {
    await sql.query(
      `INSERT INTO ${table("organization_credit_pools")} (organization_slug, monthly_allowance) VALUES ($1, $2)
       ON CONFLICT (organization_slug) DO UPDATE SET monthly_allowance = EXCLUDED.monthly_allowance`,
      [o.slug, o.creditPool.monthlyAllowance],
    );
  } else {
    await sql.query(`DELETE FROM ${table("organization_credit_pools")} WHERE organization_slug = $1`, [o.slug]);
  }
}

/** The organization as recorded, in the shape of its declaration; undefined when it has no row. */
export async function readOrganization(sql: Sql, slug: string): Promise<OrganizationRecordArgs | undefined> {
  const org = await sql.query(`SELECT slug, name, billing_mode, plan, membership_mode FROM ${table("organizations")} WHERE slug = $1`, [slug]);
  const row = org.rows[0];
  if (!row) return undefined;
  const roles = await sql.query(`SELECT role, permissions FROM ${table("roles")} WHERE organization_slug = $1 ORDER BY role`, [slug]);
  const people = await sql.query(`SELECT email, display_email, name, org_role FROM ${table("people")} WHERE organization_slug = $1 ORDER BY email`, [slug]);
  const pool = await sql.query(`SELECT monthly_allowance FROM ${table("organization_credit_pools")} WHERE organization_slug = $1`, [slug]);
  const directory: Record<string, PersonRecord> = {};
  for (const p of people.rows) {
    directory[p.email] = { email: p.display_email, ...(p.name === null ? {} : { name: p.name }), ...(p.org_role === null ? {} : { orgRole: p.org_role }) };
  }
  return {
    slug: row.slug,
    name: row.name,
    billingMode: row.billing_mode,
    ...(row.plan === null ? {} : { plan: row.plan }),
    membershipMode: row.membership_mode,
    roles: Object.fromEntries(roles.rows.map((r) => [r.role, r.permissions])),
    people: directory,
    ...(pool.rows[0] ? { creditPool: { monthlyAllowance: Number(pool.rows[0].monthly_allowance) } } : {}),
  };
}

/**
 * Deletes the organization's rows, or refuses (throws, deleting nothing) while any workspace
 * row of it remains: the SaaS would otherwise hold workspaces of an organization that is gone.
 * The row lock makes a concurrent workspace insert wait for this decision.
 */
export async function deleteOrganization(sql: Sql, slug: string): Promise<void> {
  const found = await sql.query(`SELECT 1 FROM ${table("organizations")} WHERE slug = $1 FOR UPDATE`, [slug]);
  if (found.rowCount === 0) return;
  const left = await sql.query(`SELECT slug FROM ${table("workspaces")} WHERE organization_slug = $1 ORDER BY slug`, [slug]);
  if (left.rows.length > 0) {
    const names = left.rows.map((r) => `"${r.slug}"`);
    const shown = names.length > 10 ? `${names.slice(0, 10).join(", ")} and ${names.length - 10} more` : names.join(", ");
    throw new Error(
      `refusing to delete organization "${slug}": ${names.length} workspace${names.length === 1 ? "" : "s"} of it still ` +
        `recorded in ${table("workspaces")} (${shown}); delete those workspaces first. Nothing was deleted.`,
    );
  }
  await sql.query(`DELETE FROM ${table("organizations")} WHERE slug = $1`, [slug]);
}
