// The control-plane schema the SaaS reads, as an ordered list of versioned DDL migrations.
// `ControlPlaneSchema` applies the ones a database lacks, under the admin's migrations key (a row
// lock no workspace role can take, provider/postgres/locks.ts), and records each
// in `schema_migrations` with a checksum: a migration is never edited once released (a changed
// checksum is refused), only followed by a new version.
//
// Every organization shares these tables (rows keyed by organization slug); so do the stacks
// that declare them, which is why nothing here is ever dropped by the toolkit.
//
// Who writes what:
// - `users` belongs to the SaaS: one row per ACTIVE account, keyed by the email's comparison key
//   (NFKC + lower-case). The toolkit only reads it: a declared member with no row there is not
//   yet active and gets an invitation.
// - `invitations.status` belongs to the SaaS too (pending -> accepted | expired | revoked). The
//   toolkit inserts a `pending` row when none exists for that organization+workspace+person and
//   never updates it. An invitation grants nothing by itself: access is the `memberships` row,
//   which the toolkit removes when a member is undeclared, so the SaaS must check it on accept.
// - Everything else is written by the toolkit's records (provider/resources/control-plane.ts).
//
// `memberships.role` deliberately has no foreign key to `roles`: the catalogue and the member
// lists are written by different resources, catalogue first, so moving everyone off a role and
// removing it in one change would break such a key between the two steps. The `role-defined`
// rule holds the relation before anything is applied.
import { createHash } from "node:crypto";
import { CONTROL_SCHEMA, identifier } from "../naming.ts";

export interface Migration {
  /** Strictly increasing, from 1; never reused. */
  readonly version: number;
  /** Short description, recorded with the version. */
  readonly name: string;
  readonly sql: string;
}

/** What `ControlPlaneSchema` receives: the migration and the checksum it is recorded with. */
export interface MigrationInput extends Migration {
  /** sha256 of `sql`, hex. */
  readonly checksum: string;
}

const s = identifier(CONTROL_SCHEMA);

const v1 = `
CREATE TABLE ${s}.users (
  email text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ${s}.users IS 'Owned by the SaaS: one row per active account (email after NFKC and lower-casing). The toolkit only reads it.';

CREATE TABLE ${s}.organizations (
  slug text PRIMARY KEY CHECK (slug ~ '^[a-z][a-z0-9-]{1,30}$'),
  name text NOT NULL,
  billing_mode text NOT NULL CHECK (billing_mode IN ('rollup', 'per-workspace')),
  plan text,
  membership_mode text NOT NULL CHECK (membership_mode IN ('multi-workspace', 'single-workspace')),
  updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN ${s}.organizations.plan IS 'rollup: the plan every workspace draws on; per-workspace: the default workspace plan.';

CREATE TABLE ${s}.roles (
  organization_slug text NOT NULL REFERENCES ${s}.organizations (slug) ON DELETE CASCADE,
  role text NOT NULL,
  permissions text[] NOT NULL,
  PRIMARY KEY (organization_slug, role)
);

CREATE TABLE ${s}.people (
  organization_slug text NOT NULL REFERENCES ${s}.organizations (slug) ON DELETE CASCADE,
  email text NOT NULL,
  display_email text NOT NULL,
  name text,
  org_role text,
  PRIMARY KEY (organization_slug, email),
  FOREIGN KEY (organization_slug, org_role) REFERENCES ${s}.roles (organization_slug, role)
);
COMMENT ON COLUMN ${s}.people.email IS 'The comparison key: the email after NFKC and lower-casing.';

CREATE TABLE ${s}.organization_credit_pools (
  organization_slug text PRIMARY KEY REFERENCES ${s}.organizations (slug) ON DELETE CASCADE,
  monthly_allowance bigint NOT NULL CHECK (monthly_allowance >= 0)
);

CREATE TABLE ${s}.workspaces (
  organization_slug text NOT NULL REFERENCES ${s}.organizations (slug) ON DELETE RESTRICT,
  slug text NOT NULL CHECK (slug ~ '^[a-z][a-z0-9-]{0,39}$'),
  name text NOT NULL,
  decommissioned boolean NOT NULL DEFAULT false,
  PRIMARY KEY (organization_slug, slug)
);

CREATE TABLE ${s}.workspace_subscriptions (
  organization_slug text NOT NULL,
  workspace_slug text NOT NULL,
  plan text NOT NULL,
  PRIMARY KEY (organization_slug, workspace_slug),
  FOREIGN KEY (organization_slug, workspace_slug) REFERENCES ${s}.workspaces (organization_slug, slug) ON DELETE CASCADE
);

CREATE TABLE ${s}.workspace_credit_pools (
  organization_slug text NOT NULL,
  workspace_slug text NOT NULL,
  monthly_allowance bigint NOT NULL CHECK (monthly_allowance >= 0),
  PRIMARY KEY (organization_slug, workspace_slug),
  FOREIGN KEY (organization_slug, workspace_slug) REFERENCES ${s}.workspaces (organization_slug, slug) ON DELETE CASCADE
);

CREATE TABLE ${s}.export_profiles (
  organization_slug text NOT NULL,
  workspace_slug text NOT NULL,
  letterhead text NOT NULL,
  accent_colour text NOT NULL CHECK (accent_colour ~ '^#[0-9A-Fa-f]{6}$'),
  contact_block text NOT NULL,
  PRIMARY KEY (organization_slug, workspace_slug),
  FOREIGN KEY (organization_slug, workspace_slug) REFERENCES ${s}.workspaces (organization_slug, slug) ON DELETE CASCADE
);

CREATE TABLE ${s}.integrations (
  organization_slug text NOT NULL,
  workspace_slug text NOT NULL,
  slug text NOT NULL,
  provider text NOT NULL,
  credentials_secret_name text NOT NULL,
  PRIMARY KEY (organization_slug, workspace_slug, slug),
  FOREIGN KEY (organization_slug, workspace_slug) REFERENCES ${s}.workspaces (organization_slug, slug) ON DELETE CASCADE
);
COMMENT ON COLUMN ${s}.integrations.credentials_secret_name IS 'The NAME of the Pulumi secret holding the credentials, never the credentials.';

-- Style memory never crosses workspaces: the key that names the source agent includes the workspace.
CREATE TABLE ${s}.agents (
  organization_slug text NOT NULL,
  workspace_slug text NOT NULL,
  slug text NOT NULL,
  name text NOT NULL,
  style_memory_from text,
  PRIMARY KEY (organization_slug, workspace_slug, slug),
  FOREIGN KEY (organization_slug, workspace_slug) REFERENCES ${s}.workspaces (organization_slug, slug) ON DELETE CASCADE,
  FOREIGN KEY (organization_slug, workspace_slug, style_memory_from)
    REFERENCES ${s}.agents (organization_slug, workspace_slug, slug) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE ${s}.memberships (
  organization_slug text NOT NULL,
  workspace_slug text NOT NULL,
  email text NOT NULL,
  role text NOT NULL,
  PRIMARY KEY (organization_slug, workspace_slug, email),
  FOREIGN KEY (organization_slug, workspace_slug) REFERENCES ${s}.workspaces (organization_slug, slug) ON DELETE CASCADE,
  FOREIGN KEY (organization_slug, email) REFERENCES ${s}.people (organization_slug, email) ON DELETE CASCADE
);
CREATE INDEX memberships_person ON ${s}.memberships (organization_slug, email);

CREATE TABLE ${s}.invitations (
  organization_slug text NOT NULL,
  workspace_slug text NOT NULL,
  email text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'expired', 'revoked')),
  invited_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_slug, workspace_slug, email),
  FOREIGN KEY (organization_slug, workspace_slug) REFERENCES ${s}.workspaces (organization_slug, slug) ON DELETE CASCADE
);
COMMENT ON COLUMN ${s}.invitations.status IS 'Kept by the SaaS; the toolkit inserts pending once and never updates it.';

-- One read for "which plan and pool does this workspace draw on".
CREATE VIEW ${s}.workspace_billing AS
SELECT w.organization_slug, w.slug AS workspace_slug, o.billing_mode,
       CASE o.billing_mode WHEN 'rollup' THEN o.plan ELSE ws.plan END AS plan,
       CASE o.billing_mode WHEN 'rollup' THEN 'organization' ELSE 'workspace' END AS credit_pool_owner,
       CASE o.billing_mode WHEN 'rollup' THEN op.monthly_allowance ELSE wp.monthly_allowance END AS monthly_allowance
FROM ${s}.workspaces w
JOIN ${s}.organizations o ON o.slug = w.organization_slug
LEFT JOIN ${s}.workspace_subscriptions ws ON ws.organization_slug = w.organization_slug AND ws.workspace_slug = w.slug
LEFT JOIN ${s}.organization_credit_pools op ON op.organization_slug = w.organization_slug
LEFT JOIN ${s}.workspace_credit_pools wp ON wp.organization_slug = w.organization_slug AND wp.workspace_slug = w.slug;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "tenancy records", sql: v1 },
];

export function checksum(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

/** What `ControlPlaneSchema` takes as input (the SQL travels with it, so a preview shows it). */
export function migrationInputs(migrations: readonly Migration[] = MIGRATIONS): MigrationInput[] {
  return migrations.map((m) => ({ ...m, checksum: checksum(m.sql) }));
}

/** Problems with the list itself: versions must be integers, from 1, strictly increasing. */
export function migrationOrderProblems(migrations: readonly Pick<Migration, "version">[]): string[] {
  const problems: string[] = [];
  migrations.forEach((m, i) => {
    if (!Number.isSafeInteger(m.version) || m.version < 1) problems.push(`migration #${i + 1} has version ${m.version}; versions are integers from 1`);
    const before = migrations[i - 1];
    if (before && !(m.version > before.version)) problems.push(`migration v${m.version} follows v${before.version}; versions must strictly increase`);
  });
  return problems;
}

/** A migration already recorded in `schema_migrations`. */
export interface AppliedMigration {
  readonly version: number;
  readonly checksum: string;
}

export type MigrationPlan =
  | { readonly ok: true; readonly pending: readonly MigrationInput[] }
  | { readonly ok: false; readonly problem: string };

/**
 * The migrations to apply, in order, given what a database has recorded. Refuses a database
 * that recorded a version this list lacks (it was migrated by a newer toolkit) or a checksum
 * that differs (a released migration was edited).
 */
export function planMigrations(all: readonly MigrationInput[], applied: readonly AppliedMigration[]): MigrationPlan {
  const known = new Map(all.map((m) => [m.version, m]));
  for (const a of applied) {
    const m = known.get(a.version);
    if (!m) return { ok: false, problem: `${CONTROL_SCHEMA} is at migration v${a.version}, which this toolkit does not know (it knows up to v${all.at(-1)?.version ?? 0}); upgrade the toolkit` };
    if (m.checksum !== a.checksum) return { ok: false, problem: `migration v${a.version} (${m.name}) differs from the one applied to ${CONTROL_SCHEMA}; released migrations must not change: add a new version instead` };
  }
  const done = new Set(applied.map((a) => a.version));
  return { ok: true, pending: all.filter((m) => !done.has(m.version)) };
}
