// Reads one organization's live state from PostgreSQL, read-only, in ONE repeatable-read
// snapshot, with a fixed number of statements whatever the size of the tenancy (no query per
// workspace, role or person): the count is returned and printed by `tenancy audit --verbose`.
//
// Safety: the auditor never runs code a workspace can plant. It reads catalogs only (never a
// workspace table or view), every name is schema-qualified, and `search_path` is pinned to
// `pg_catalog, pg_temp` (pg_temp last: unlisted, it would be searched first). The control-plane
// tables are read only after the catalogs say each is a plain table without row-level
// security (a policy is code that would run as the auditor); otherwise none of them is read and
// the audit reports why. Integration credentials are never read: only their secret NAMES, from
// the control plane.
import type pg from "pg";
import { AUDITOR_ROLE, CONTROL_SCHEMA, CREDENTIALS_TABLE, identifier } from "../components/naming.ts";
import { CREDENTIALS_FACTS } from "../provider/postgres/credentials-table.ts";
import { MIGRATIONS } from "../components/control-plane/migrations.ts";
import {
  DefaultAclType, emptyControlPlane, RelationKind,
  type LiveControlPlane, type LiveControlPlaneCode, type LiveDatabase, type LiveLargeObjectGrant, type LiveServer, type LiveDefaultAcl, type LiveFunction, type LiveMembership, type LiveRelation,
  type LiveRole, type LiveSchema, type LiveState,
} from "./live-state.ts";
import { organizationPrefix } from "./expected.ts";

/** The smallest client the reader needs (a `pg.Client` or `pg.PoolClient`). */
export type Queryable = Pick<pg.Client, "query">;

export interface ReadResult {
  readonly state: LiveState;
  /** Statements sent, BEGIN/SET/COMMIT included: the same for 1 workspace or 10,000. */
  readonly queries: number;
  readonly durationMs: number;
}

const s = identifier(CONTROL_SCHEMA);

/** The control-plane tables read, and the ones every migration list must contain. */
export const CONTROL_TABLES = [
  "schema_migrations", "organizations", "roles", "people", "organization_credit_pools", "workspaces", "workspace_subscriptions",
  "workspace_credit_pools", "export_profiles", "integrations", "agents", "memberships", "invitations", "users",
] as const;

// Every table the migrations create must be one the reader knows, or a new migration's table
// would be silently ignored by the audit.
for (const match of MIGRATIONS.flatMap((m) => [...m.sql.matchAll(/CREATE TABLE \S+\.(\w+)/g)])) {
  if (!(CONTROL_TABLES as readonly string[]).includes(match[1]!)) throw new Error(`audit: control-plane table ${match[1]} is not read by audit/read-postgres.ts`);
}

/**
 * An ACL as JSON: grantee (role name or PUBLIC), privilege, grantable, grantor. With `kind` (a
 * SQL expression for acldefault's object type), a NULL ACL means the built-in default.
 */
function aclJson(acl: string, kind: string | undefined, owner?: string): string {
  return `(SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
      'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee)::pg_catalog.text END,
      'privilege', a.privilege_type, 'grantable', a.is_grantable,
      'grantor', pg_catalog.pg_get_userbyid(a.grantor)::pg_catalog.text) ORDER BY a.grantee, a.privilege_type), '[]'::pg_catalog.json)
    FROM pg_catalog.aclexplode(${kind === undefined ? acl : `COALESCE(${acl}, pg_catalog.acldefault(${kind}, ${owner}))`}) a)`;
}

/** True when the ACL names a role of the tenancy ($1 is the organization's prefix, $3 the auditor). */
function namesTenancyRole(acl: string): string {
  return `EXISTS (SELECT 1 FROM pg_catalog.aclexplode(${acl}) a WHERE a.grantee <> 0
      AND (pg_catalog.starts_with(pg_catalog.pg_get_userbyid(a.grantee)::pg_catalog.text, $1) OR pg_catalog.pg_get_userbyid(a.grantee)::pg_catalog.text = $3))`;
}

/** In the organization's namespace ($1, `<org>__`) or the control plane ($2). */
const inScope = (schema: string) => `(pg_catalog.starts_with(${schema}, $1) OR ${schema} = $2)`;

/** A role name from an oid, PUBLIC for 0. */
const roleName = (oid: string) => `CASE WHEN ${oid} = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(${oid})::pg_catalog.text END`;

/**
 * Server-wide facts, as columns of the summary statement (no statement of their own): the
 * settings a CIS PostgreSQL review reads (each visible to any role; pgaudit counts as loaded
 * when its `pgaudit.log` setting exists, which only a loaded library registers), the bootstrap
 * superuser (oid 10), every database that accepts connections with its effective ACL and the
 * privileges the organization's roles ($2, `<org>__`) hold on it (has_database_privilege), large
 * objects' grants counted per owner, grantee and privilege, event triggers, and the triggers,
 * rules and policies on the control plane's tables ($1).
 */
export const SERVER_SETTINGS = ["password_encryption", "ssl", "log_connections", "log_disconnections", "log_statement", "lo_compat_privileges"] as const;
const SERVER = `(SELECT pg_catalog.json_object_agg(s.name, s.setting) FROM pg_catalog.pg_settings s
      WHERE s.name IN (${SERVER_SETTINGS.map((n) => `'${n}'`).join(", ")})) AS settings,
    EXISTS (SELECT 1 FROM pg_catalog.pg_settings s WHERE s.name = 'pgaudit.log') AS pgaudit,
    (SELECT r.rolname::pg_catalog.text FROM pg_catalog.pg_roles r WHERE r.oid = 10) AS bootstrap,
    (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('name', d.datname::pg_catalog.text, 'owner', pg_catalog.pg_get_userbyid(d.datdba)::pg_catalog.text,
        'acl', ${aclJson("d.datacl", "'d'", "d.datdba")},
        'reach', (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('role', x.rolname, 'privileges', x.privileges)
          ORDER BY x.rolname COLLATE pg_catalog."C"), '[]'::pg_catalog.json) FROM (
            SELECT r.rolname::pg_catalog.text AS rolname, ARRAY(SELECT p FROM pg_catalog.unnest(ARRAY['CONNECT', 'TEMPORARY', 'CREATE']) p
                WHERE pg_catalog.has_database_privilege(r.oid, d.oid, p)) AS privileges
              FROM pg_catalog.pg_roles r WHERE pg_catalog.starts_with(r.rolname::pg_catalog.text, $2)) x WHERE pg_catalog.cardinality(x.privileges) > 0))
        ORDER BY d.datname COLLATE pg_catalog."C"), '[]'::pg_catalog.json)
      FROM pg_catalog.pg_database d WHERE d.datallowconn) AS databases,
    (SELECT COALESCE(pg_catalog.json_agg(x ORDER BY x.owner COLLATE pg_catalog."C", x.grantee COLLATE pg_catalog."C", x.privilege COLLATE pg_catalog."C"), '[]'::pg_catalog.json) FROM (
      SELECT pg_catalog.pg_get_userbyid(l.lomowner)::pg_catalog.text AS owner, ${roleName("a.grantee")} AS grantee, a.privilege_type::pg_catalog.text AS privilege,
        pg_catalog.count(*)::pg_catalog.int4 AS count
      FROM pg_catalog.pg_largeobject_metadata l, pg_catalog.aclexplode(l.lomacl) a
      WHERE l.lomacl IS NOT NULL AND a.grantee <> l.lomowner GROUP BY 1, 2, 3) x) AS large_objects,
    (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('name', e.evtname::pg_catalog.text, 'event', e.evtevent::pg_catalog.text,
        'owner', pg_catalog.pg_get_userbyid(e.evtowner)::pg_catalog.text, 'function', e.evtfoid::pg_catalog.regproc::pg_catalog.text, 'enabled', e.evtenabled <> 'D')
        ORDER BY e.evtname), '[]'::pg_catalog.json) FROM pg_catalog.pg_event_trigger e) AS event_triggers,
    (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('table', c.relname::pg_catalog.text, 'name', t.tgname::pg_catalog.text,
        'function', t.tgfoid::pg_catalog.regproc::pg_catalog.text, 'enabled', t.tgenabled <> 'D') ORDER BY c.relname, t.tgname), '[]'::pg_catalog.json)
      FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT t.tgisinternal) AS control_triggers,
    (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('table', c.relname::pg_catalog.text, 'name', r.rulename::pg_catalog.text,
        'event', CASE r.ev_type WHEN '1' THEN 'SELECT' WHEN '2' THEN 'UPDATE' WHEN '3' THEN 'INSERT' ELSE 'DELETE' END) ORDER BY c.relname, r.rulename), '[]'::pg_catalog.json)
      FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND r.rulename <> '_RETURN') AS control_rules,
    (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('table', c.relname::pg_catalog.text, 'name', p.polname::pg_catalog.text,
        'roles', (SELECT pg_catalog.array_agg(${roleName("o")} ORDER BY 1) FROM pg_catalog.unnest(p.polroles) o)) ORDER BY c.relname, p.polname), '[]'::pg_catalog.json)
      FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1) AS control_policies`;

const META = `SELECT pg_catalog.current_setting('server_version_num')::pg_catalog.int4 AS version,
    CURRENT_USER::pg_catalog.text AS "user", pg_catalog.now() AS now,
    (SELECT pg_catalog.json_build_object('name', d.datname::pg_catalog.text, 'owner', pg_catalog.pg_get_userbyid(d.datdba)::pg_catalog.text,
        'acl', ${aclJson("d.datacl", "'d'", "d.datdba")})
      FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()) AS database,
    (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('name', c.relname::pg_catalog.text, 'kind', c.relkind, 'rls', c.relrowsecurity,
        'readable', pg_catalog.has_table_privilege(c.oid, 'SELECT'))), '[]'::pg_catalog.json)
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1) AS control_tables,
    EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n WHERE n.nspname = $1) AS control_schema,
    ${SERVER}`;

// Every role and membership on the server, whatever its name: who can reach a workspace is
// computed from all of them (audit/access.ts), not only from the roles the tenancy named.
const ROLES = `SELECT r.rolname::pg_catalog.text AS name, r.rolcanlogin AS login, r.rolsuper AS superuser, r.rolcreaterole AS createrole,
    r.rolcreatedb AS createdb, r.rolreplication AS replication, r.rolbypassrls AS bypassrls, r.rolinherit AS inherit
  FROM pg_catalog.pg_roles r
  ORDER BY r.rolname COLLATE pg_catalog."C"`;

const MEMBERSHIPS = `SELECT g.rolname::pg_catalog.text AS role, m.rolname::pg_catalog.text AS member, am.admin_option AS admin,
    am.inherit_option AS inherit, am.set_option AS set
  FROM pg_catalog.pg_auth_members am
  JOIN pg_catalog.pg_roles g ON g.oid = am.roleid JOIN pg_catalog.pg_roles m ON m.oid = am.member
  ORDER BY g.rolname COLLATE pg_catalog."C", m.rolname COLLATE pg_catalog."C"`;

const SCHEMAS = `SELECT n.nspname::pg_catalog.text AS name, pg_catalog.pg_get_userbyid(n.nspowner)::pg_catalog.text AS owner,
    ${aclJson("n.nspacl", "'n'", "n.nspowner")} AS acl
  FROM pg_catalog.pg_namespace n
  WHERE ${inScope("n.nspname::pg_catalog.text")} OR n.nspname = 'public' OR ${namesTenancyRole("n.nspacl")}
  ORDER BY 1`;

const RELATIONS = `SELECT n.nspname::pg_catalog.text AS schema, c.relname::pg_catalog.text AS name, c.relkind AS kind,
    pg_catalog.pg_get_userbyid(c.relowner)::pg_catalog.text AS owner,
    ${aclJson("c.relacl", `(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::pg_catalog."char"`, "c.relowner")} AS acl,
    (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('column', at.attname::pg_catalog.text,
        'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee)::pg_catalog.text END,
        'privilege', a.privilege_type, 'grantable', a.is_grantable, 'grantor', pg_catalog.pg_get_userbyid(a.grantor)::pg_catalog.text)
        ORDER BY at.attnum, a.grantee, a.privilege_type), '[]'::pg_catalog.json)
      FROM pg_catalog.pg_attribute at, pg_catalog.aclexplode(at.attacl) a
      WHERE at.attrelid = c.oid AND at.attacl IS NOT NULL) AS column_acl,
    c.relrowsecurity AS row_security, c.relforcerowsecurity AS force_row_security,
    CASE WHEN c.relname = $4 AND pg_catalog.starts_with(n.nspname::pg_catalog.text, $1) THEN ${CREDENTIALS_FACTS} END AS credentials
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
    AND (${inScope("n.nspname::pg_catalog.text")} OR ${namesTenancyRole("c.relacl")}
      OR EXISTS (SELECT 1 FROM pg_catalog.pg_attribute at WHERE at.attrelid = c.oid AND at.attacl IS NOT NULL AND ${namesTenancyRole("at.attacl")}))
  ORDER BY 1, 2`;

const FUNCTIONS = `SELECT n.nspname::pg_catalog.text AS schema,
    p.proname::pg_catalog.text || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' AS signature,
    pg_catalog.pg_get_userbyid(p.proowner)::pg_catalog.text AS owner, ${aclJson("p.proacl", "'f'", "p.proowner")} AS acl,
    p.prosecdef AS security_definer
  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
  WHERE ${inScope("n.nspname::pg_catalog.text")} OR ${namesTenancyRole("p.proacl")}
  ORDER BY 1, 2`;

const DEFAULT_ACLS = `SELECT pg_catalog.pg_get_userbyid(d.defaclrole)::pg_catalog.text AS role, n.nspname::pg_catalog.text AS schema,
    d.defaclobjtype AS type, ${aclJson("d.defaclacl", undefined)} AS acl
  FROM pg_catalog.pg_default_acl d LEFT JOIN pg_catalog.pg_namespace n ON n.oid = d.defaclnamespace
  WHERE pg_catalog.starts_with(pg_catalog.pg_get_userbyid(d.defaclrole)::pg_catalog.text, $1)
     OR (n.nspname IS NOT NULL AND ${inScope("n.nspname::pg_catalog.text")}) OR ${namesTenancyRole("d.defaclacl")}
  ORDER BY 1, 2 NULLS FIRST, 3`;

/** One organization's control-plane rows as JSON, in one statement ($1: the organization). */
function controlPlaneQuery(): string {
  // Byte order ("C"): deterministic, and several times cheaper than a locale's collation.
  const c = (order: string) => order.split(", ").map((column) => `${column} COLLATE pg_catalog."C"`).join(", ");
  const list = (columns: string, table: string, order: string) =>
    `(SELECT COALESCE(pg_catalog.json_agg(x ORDER BY ${c(order)}), '[]'::pg_catalog.json) FROM (SELECT ${columns} FROM ${s}.${table} WHERE organization_slug = $1) x)`;
  return `SELECT
    (SELECT COALESCE(pg_catalog.json_agg(m.version ORDER BY m.version), '[]'::pg_catalog.json) FROM ${s}.schema_migrations m) AS migrations,
    (SELECT pg_catalog.row_to_json(x) FROM (SELECT slug, name, billing_mode, plan, membership_mode FROM ${s}.organizations WHERE slug = $1) x) AS organization,
    ${list("role, permissions", "roles", "x.role")} AS roles,
    ${list("email, display_email, name, org_role", "people", "x.email")} AS people,
    (SELECT p.monthly_allowance FROM ${s}.organization_credit_pools p WHERE p.organization_slug = $1) AS organization_pool,
    (SELECT COALESCE(pg_catalog.json_agg(x ORDER BY ${c("x.slug")}), '[]'::pg_catalog.json) FROM (SELECT slug, name, decommissioned FROM ${s}.workspaces WHERE organization_slug = $1) x) AS workspaces,
    ${list("workspace_slug, plan", "workspace_subscriptions", "x.workspace_slug")} AS subscriptions,
    ${list("workspace_slug, monthly_allowance", "workspace_credit_pools", "x.workspace_slug")} AS workspace_pools,
    ${list("workspace_slug, letterhead, accent_colour, contact_block", "export_profiles", "x.workspace_slug")} AS export_profiles,
    ${list("workspace_slug, slug, provider, credentials_secret_name", "integrations", "x.workspace_slug, x.slug")} AS integrations,
    ${list("workspace_slug, slug, name, style_memory_from", "agents", "x.workspace_slug, x.slug")} AS agents,
    ${list("workspace_slug, email, role", "memberships", "x.workspace_slug, x.email")} AS memberships,
    ${list("workspace_slug, email, status, invited_at", "invitations", "x.workspace_slug, x.email")} AS invitations,
    (SELECT COALESCE(pg_catalog.json_agg(u.email ORDER BY ${c("u.email")}), '[]'::pg_catalog.json) FROM ${s}.users u
      WHERE u.email IN (SELECT email FROM ${s}.people WHERE organization_slug = $1
        UNION SELECT email FROM ${s}.memberships WHERE organization_slug = $1
        UNION SELECT email FROM ${s}.invitations WHERE organization_slug = $1)) AS active_users`;
}

/** Why the control plane cannot be read safely, or undefined. */
function controlPlaneProblem(exists: boolean, tables: readonly ControlTable[]): string | undefined {
  if (!exists) return `schema ${CONTROL_SCHEMA} does not exist`;
  const byName = new Map(tables.map((t) => [t.name, t]));
  const absent = CONTROL_TABLES.filter((t) => !byName.has(t));
  if (absent.length > 0) return `${CONTROL_SCHEMA} lacks ${absent.map((t) => `${CONTROL_SCHEMA}.${t}`).join(", ")}`;
  for (const name of CONTROL_TABLES) {
    const t = byName.get(name)!;
    if (t.kind !== "r") return `${CONTROL_SCHEMA}.${name} is not a plain table (relkind ${JSON.stringify(t.kind)}); not read`;
    if (t.rls) return `${CONTROL_SCHEMA}.${name} has row-level security enabled (its policies would run as the auditor); not read`;
    // Its owner changed, or a grant was revoked: say so rather than fail on "permission denied".
    if (!t.readable) return `the auditing role may not read ${CONTROL_SCHEMA}.${name} (SELECT); not read`;
  }
  return undefined;
}

interface ControlTable { name: string; kind: string; rls: boolean; readable: boolean }

interface MetaRow {
  version: number; user: string; now: Date; database: LiveDatabase; control_tables: ControlTable[]; control_schema: boolean;
  settings: Record<string, string> | null; pgaudit: boolean; bootstrap: string; databases: LiveDatabase[]; large_objects: LiveLargeObjectGrant[];
  event_triggers: LiveServer["eventTriggers"]; control_triggers: LiveControlPlaneCode["triggers"]; control_rules: LiveControlPlaneCode["rules"];
  control_policies: LiveControlPlaneCode["policies"];
}

/** Reads the live state of `organization` through `client` (connected; left open). */
export async function readPostgres(client: Queryable, organization: string): Promise<ReadResult> {
  const started = performance.now();
  let queries = 0;
  const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> => {
    queries++;
    return (await client.query(sql, params)).rows as T[];
  };
  const prefix = organizationPrefix(organization);
  await q("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  try {
    await q("SET LOCAL search_path = pg_catalog, pg_temp");
    const [meta] = await q<MetaRow>(META, [CONTROL_SCHEMA, prefix]);
    if (!meta) throw new Error("the server returned no row for the catalog summary");
    if (meta.version < 160000) throw new Error(`PostgreSQL ${Math.floor(meta.version / 10000)} is not supported; the audit needs 16 or newer`);
    const scope = [prefix, CONTROL_SCHEMA, AUDITOR_ROLE];
    const roles = await q<LiveRole>(ROLES);
    const memberships = await q<LiveMembership>(MEMBERSHIPS);
    const schemas = await q<LiveSchema>(SCHEMAS, scope);
    type RelationRow = LiveRelation & { kind: string; column_acl: LiveRelation["columnAcl"]; row_security: boolean; force_row_security: boolean; credentials: LiveRelation["credentials"] | null };
    const relations = (await q<RelationRow>(RELATIONS, [...scope, CREDENTIALS_TABLE]))
      .map(({ column_acl, row_security, force_row_security, credentials, ...r }): LiveRelation => ({
        ...r, kind: RelationKind[r.kind as keyof typeof RelationKind], columnAcl: column_acl, rowSecurity: row_security, forceRowSecurity: force_row_security,
        ...(credentials ? { credentials } : {}),
      }));
    const functions = (await q<LiveFunction & { security_definer: boolean }>(FUNCTIONS, scope))
      .map(({ security_definer, ...f }) => ({ ...f, securityDefiner: security_definer }));
    const defaultAcls = (await q<{ role: string; schema: string | null; type: string; acl: LiveDefaultAcl["acl"] }>(DEFAULT_ACLS, scope))
      .map((d): LiveDefaultAcl => ({
        role: d.role, ...(d.schema === null ? {} : { schema: d.schema }), objectType: DefaultAclType[d.type as keyof typeof DefaultAclType], acl: d.acl,
      }));
    const problem = controlPlaneProblem(meta.control_schema, meta.control_tables);
    let controlPlane: LiveControlPlane = emptyControlPlane(problem);
    if (!problem) {
      const [row] = await q<Record<string, unknown>>(controlPlaneQuery(), [organization]);
      controlPlane = controlPlaneFrom(row!);
    }
    await q("COMMIT");
    const state: LiveState = {
      organization, snapshotAt: new Date(meta.now).toISOString(), serverVersion: meta.version, currentUser: meta.user,
      database: meta.database, roles, memberships, schemas, relations, functions, defaultAcls, controlPlane,
      server: {
        bootstrapSuperuser: meta.bootstrap, settings: meta.settings ?? {}, pgauditLoaded: meta.pgaudit, databases: meta.databases,
        largeObjects: meta.large_objects, eventTriggers: meta.event_triggers,
      },
      controlPlaneCode: { triggers: meta.control_triggers, rules: meta.control_rules, policies: meta.control_policies },
    };
    return { state, queries, durationMs: performance.now() - started };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

function controlPlaneFrom(row: Record<string, unknown>): LiveControlPlane {
  const list = <T>(key: string) => (row[key] ?? []) as T[];
  const pool = row.organization_pool;
  return {
    migrations: list<number>("migrations"),
    ...(row.organization ? { organization: row.organization as LiveControlPlane["organization"] } : {}),
    roles: list("roles"),
    people: list("people"),
    ...(pool === null || pool === undefined ? {} : { organizationPool: Number(pool) }),
    workspaces: list("workspaces"),
    subscriptions: list("subscriptions"),
    workspacePools: list<{ workspace_slug: string; monthly_allowance: number }>("workspace_pools").map((p) => ({ ...p, monthly_allowance: Number(p.monthly_allowance) })),
    exportProfiles: list("export_profiles"),
    integrations: list("integrations"),
    agents: list("agents"),
    memberships: list("memberships"),
    invitations: list<{ workspace_slug: string; email: string; status: string; invited_at: string }>("invitations")
      .map((i) => ({ ...i, invited_at: new Date(i.invited_at).toISOString() })),
    activeUsers: list("active_users"),
  };
}
