// The interrupted-apply test's own view of the server, in its own SQL (no toolkit code): what an
// organization should have after a converged apply (exactly its declared roles, schemas, grants,
// control-plane rows and sealed-credential rows, nothing more), and, right after a kill, whether
// any workspace is half-applied (its boundary, record or credentials between two declarations).
import { boundaryOf, outsideFindings, type Boundary, type Sql } from "./attack-catalog.ts";
import type { Declared, DeclaredWorkspace } from "./interrupt-harness.ts";

const CONTROL = "tenancy_control";
const CREDENTIALS = "integration_credentials";
const id = (s: string) => `"${s.replace(/"/g, '""')}"`;

export interface Findings {
  /** On the server but not declared: roles, schemas, rows, grants crossing a boundary. */
  readonly orphans: string[];
  /** Declared but absent: roles, schemas, grants, rows. */
  readonly missing: string[];
}

function compare(kind: string, found: Iterable<string>, expected: Iterable<string>, into: Findings): void {
  const f = new Set(found), e = new Set(expected);
  for (const x of f) if (!e.has(x)) into.orphans.push(`${kind} ${x}`);
  for (const x of e) if (!f.has(x)) into.missing.push(`${kind} ${x}`);
}

const prefixOf = (org: string) => `${org.replace(/-/g, "_")}__`;
const boundaries = (d: Declared) => d.workspaces.map((w) => boundaryOf(d.org, w.slug));

/** Each part of a workspace's boundary, as present (true) or not, in one query per organization. */
async function boundaryParts(sql: Sql, bs: readonly Boundary[], database: string): Promise<Map<string, Record<string, boolean>>> {
  const rows = await sql<{ key: string } & Record<string, boolean>>(`
    WITH b AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS b(schema, owner, app, ro)),
    x AS (SELECT b.*, n.oid AS nsp, n.nspacl,
        (SELECT c.relowner FROM pg_class c WHERE c.relnamespace = n.oid AND c.relname = $6 AND c.relkind = 'r') AS table_owner,
        (SELECT oid FROM pg_roles WHERE rolname = b.owner) AS owner_oid,
        (SELECT rolcanlogin FROM pg_roles WHERE rolname = b.app) AS app_login,
        (SELECT rolcanlogin FROM pg_roles WHERE rolname = b.ro) AS ro_login
      FROM b LEFT JOIN pg_namespace n ON n.nspname = b.schema),
    ok AS (SELECT x.*, x.owner_oid IS NOT NULL AND x.app_login IS NOT NULL AND x.ro_login IS NOT NULL AND x.nsp IS NOT NULL AS whole FROM x)
    SELECT schema AS key,
      owner_oid IS NOT NULL AS "owner role", app_login IS NOT NULL AS "app role", ro_login IS NOT NULL AS "read-only role",
      nsp IS NOT NULL AS "the schema",
      coalesce(table_owner = owner_oid, false) AS "credentials table owned by the owner",
      coalesce(app_login AND NOT ro_login AND NOT (SELECT rolcanlogin FROM pg_roles WHERE oid = owner_oid), false) AS "LOGIN only for the app role",
      NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname IN (owner, app, ro) AND (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolbypassrls OR r.rolreplication)) AS "no elevated role attribute",
      whole AND (SELECT nspowner FROM pg_namespace WHERE oid = nsp) = owner_oid AS "schema owned by the owner",
      whole AND has_database_privilege(app, $5, 'CONNECT') AS "CONNECT for the app role",
      whole AND has_database_privilege(ro, $5, 'CONNECT') AS "CONNECT for the read-only role",
      whole AND has_schema_privilege(app, schema, 'USAGE') AND has_schema_privilege(app, schema, 'CREATE') AS "USAGE, CREATE on the schema for the app role",
      whole AND has_schema_privilege(ro, schema, 'USAGE') AND NOT has_schema_privilege(ro, schema, 'CREATE') AS "USAGE only on the schema for the read-only role",
      whole AND NOT EXISTS (SELECT 1 FROM aclexplode(nspacl) a WHERE a.grantee = 0) AS "nothing on the schema for PUBLIC",
      whole AND table_owner IS NOT NULL AND has_table_privilege(app, format('%I.%I', schema, $6), 'SELECT') AS "SELECT on the credentials for the app role",
      whole AND table_owner IS NOT NULL AND NOT has_table_privilege(ro, format('%I.%I', schema, $6), 'SELECT') AS "no SELECT on the credentials for the read-only role",
      (SELECT count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) a
        WHERE d.defaclnamespace = nsp AND d.defaclobjtype = 'r' AND d.defaclrole IN (SELECT oid FROM pg_roles WHERE rolname IN (owner, app))
          AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = ro) AND a.privilege_type = 'SELECT') = 2 AS "future tables of the owner and app readable by the read-only role",
      (SELECT count(*) FROM pg_default_acl d WHERE d.defaclnamespace = 0 AND d.defaclobjtype = 'f' AND d.defaclrole IN (SELECT oid FROM pg_roles WHERE rolname IN (owner, app))
          AND NOT EXISTS (SELECT 1 FROM aclexplode(d.defaclacl) a WHERE a.grantee = 0)) = 2 AS "future functions of the owner and app not executable by PUBLIC"
    FROM ok`,
  [bs.map((b) => b.schema), bs.map((b) => b.owner), bs.map((b) => b.app), bs.map((b) => b.readonly), database, CREDENTIALS]);
  return new Map(rows.map(({ key, ...parts }) => [key, parts]));
}

interface Rows { workspaces: Map<string, string>; members: Map<string, string[]>; integrations: Map<string, string[]> }

async function controlRows(sql: Sql, org: string): Promise<Rows> {
  // A kill before the control plane's first migration committed leaves no tables at all.
  const [{ t }] = await sql<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [`${CONTROL}.memberships`]) as [{ t: string | null }];
  if (t === null) return { workspaces: new Map(), members: new Map(), integrations: new Map() };
  const group = (rows: { ws: string; line: string }[]) => {
    const m = new Map<string, string[]>();
    for (const r of rows) m.set(r.ws, [...(m.get(r.ws) ?? []), r.line].sort());
    return m;
  };
  return {
    workspaces: new Map((await sql<{ slug: string; decommissioned: boolean }>(`SELECT slug, decommissioned FROM ${CONTROL}.workspaces WHERE organization_slug = $1`, [org]))
      .map((r) => [r.slug, r.decommissioned ? "decommissioned" : "active"])),
    members: group(await sql(`SELECT workspace_slug AS ws, email || ' ' || role AS line FROM ${CONTROL}.memberships WHERE organization_slug = $1`, [org])),
    integrations: group(await sql(`SELECT workspace_slug AS ws, slug || ' ' || provider AS line FROM ${CONTROL}.integrations WHERE organization_slug = $1`, [org])),
  };
}

/** Sealed-credential rows per schema ("slug provider"), for the schemas whose table exists. */
async function credentialRows(sql: Sql, schemas: readonly string[]): Promise<Map<string, string[]>> {
  const present = (await sql<{ s: string }>(`SELECT n.nspname AS s FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = $1 AND c.relkind = 'r' AND n.nspname = ANY($2)`, [CREDENTIALS, schemas])).map((r) => r.s);
  const out = new Map<string, string[]>(present.map((s) => [s, []]));
  if (present.length === 0) return out;
  // Schema names come from the catalog and are plain identifiers: safe as literals and quoted names.
  if (present.some((s) => !/^[a-z0-9_]+$/.test(s))) throw new Error(`unexpected schema name among ${present.join(", ")}`);
  const union = present.map((s) => `SELECT '${s}' AS s, slug || ' ' || provider || CASE WHEN ciphertext IS NULL OR key_id IS NULL THEN ' (not sealed)' ELSE '' END AS line FROM ${id(s)}.${CREDENTIALS}`).join(" UNION ALL ");
  for (const r of await sql<{ s: string; line: string }>(union)) out.get(r.s)!.push(r.line);
  for (const lines of out.values()) lines.sort();
  return out;
}

const memberLines = (w: DeclaredWorkspace) => Object.entries(w.members).map(([e, r]) => `${e} ${r}`).sort();
const integrationLines = (w: DeclaredWorkspace) => Object.entries(w.integrations).map(([s, p]) => `${s} ${p}`).sort();

/**
 * Everything of organization `d.org` on the server against its declaration. `deep` adds the
 * independent boundary checker of the attack tests for every workspace (slower).
 */
export async function checkOrganization(sql: Sql, d: Declared, database: string, deep: boolean): Promise<Findings> {
  const f: Findings = { orphans: [], missing: [] };
  const bs = boundaries(d);
  const prefix = prefixOf(d.org);
  compare("role", (await sql<{ r: string }>(`SELECT rolname AS r FROM pg_roles WHERE starts_with(rolname, $1)`, [prefix])).map((x) => x.r), bs.flatMap((b) => b.roles), f);
  compare("schema", (await sql<{ s: string }>(`SELECT nspname AS s FROM pg_namespace WHERE starts_with(nspname, $1)`, [prefix])).map((x) => x.s), bs.map((b) => b.schema), f);
  for (const [schema, parts] of await boundaryParts(sql, bs, database)) {
    for (const [part, ok] of Object.entries(parts)) if (!ok) f.missing.push(`${schema}: ${part}`);
  }
  if ((await sql(`SELECT 1 FROM ${CONTROL}.organizations WHERE slug = $1`, [d.org])).length !== 1) f.missing.push(`row organizations ${d.org}`);
  const rows = await controlRows(sql, d.org);
  compare("row workspaces", [...rows.workspaces].map(([s, state]) => `${s} ${state}`), d.workspaces.map((w) => `${w.slug} ${w.decommissioned ? "decommissioned" : "active"}`), f);
  compare("row memberships", [...rows.members].flatMap(([ws, lines]) => lines.map((l) => `${ws} ${l}`)), d.workspaces.flatMap((w) => memberLines(w).map((l) => `${w.slug} ${l}`)), f);
  compare("row integrations", [...rows.integrations].flatMap(([ws, lines]) => lines.map((l) => `${ws} ${l}`)), d.workspaces.flatMap((w) => integrationLines(w).map((l) => `${w.slug} ${l}`)), f);
  const sealed = await credentialRows(sql, bs.map((b) => b.schema));
  compare("sealed credential", [...sealed].flatMap(([s, lines]) => lines.map((l) => `${s} ${l}`)), d.workspaces.flatMap((w, i) => integrationLines(w).map((l) => `${bs[i]!.schema} ${l}`)), f);
  if (deep) for (const b of bs) for (const finding of await outsideFindings(sql, b, database)) f.orphans.push(`grant crossing ${b.schema}: ${finding}`);
  return f;
}

/** Roles and schemas shaped like a workspace's (`<org>__<ws>[__owner|app|ro]`) of no declared organization. */
export async function strangers(sql: Sql, declared: readonly Declared[]): Promise<string[]> {
  const prefixes = declared.map((d) => prefixOf(d.org));
  const rows = await sql<{ what: string; name: string }>(`
    SELECT 'role' AS what, rolname AS name FROM pg_roles WHERE rolname ~ '^[a-z0-9_]+__[a-z0-9_]+__(owner|app|ro)$'
    UNION ALL SELECT 'schema', nspname FROM pg_namespace WHERE nspname ~ '^[a-z0-9_]+__[a-z0-9_]+$'`);
  return rows.filter((r) => !prefixes.some((p) => r.name.startsWith(p))).map((r) => `${r.what} ${r.name}`).sort();
}

/**
 * Right after a kill: every workspace must be wholly as one of the two declarations has it (its
 * boundary all there or all absent, its record and member list, its sealed credentials), never a
 * mix. Returns the workspaces that are not, with what was found.
 */
export async function halfApplied(sql: Sql, before: Declared | undefined, after: Declared, database: string): Promise<string[]> {
  const slugs = [...new Set([...(before?.workspaces ?? []), ...after.workspaces].map((w) => w.slug))];
  const bs = slugs.map((s) => boundaryOf(after.org, s));
  const parts = await boundaryParts(sql, bs, database);
  const rows = await controlRows(sql, after.org);
  const sealed = await credentialRows(sql, bs.map((b) => b.schema));
  const problems: string[] = [];
  slugs.forEach((slug, i) => {
    const b = bs[i]!;
    const shapeOf = (w: DeclaredWorkspace | undefined) => JSON.stringify(w
      ? { boundary: "whole", record: w.decommissioned ? "decommissioned" : "active", members: memberLines(w), integrations: integrationLines(w), sealed: integrationLines(w) }
      : { boundary: "absent", record: "absent", members: [], integrations: [], sealed: "absent" });
    const p = Object.values(parts.get(b.schema)!);
    const boundary = p.every(Boolean) ? "whole" : p.slice(0, 4).every((x) => !x) ? "absent" : `partial (${Object.entries(parts.get(b.schema)!).filter(([, ok]) => !ok).map(([k]) => k).join(", ")})`;
    const found = {
      boundary, record: rows.workspaces.get(slug) ?? "absent", members: rows.members.get(slug) ?? [], integrations: rows.integrations.get(slug) ?? [],
      sealed: sealed.get(b.schema) ?? "absent",
    };
    // A workspace without integrations has an empty credentials table: "[]" either way.
    const norm = (s: string) => s.replace(/"sealed":"absent"/, '"sealed":[]');
    const was = before?.workspaces.find((w) => w.slug === slug), will = after.workspaces.find((w) => w.slug === slug);
    const candidates = new Set([shapeOf(was), shapeOf(will)].map(norm));
    // The boundary, the record and the credentials are three resources: each may be at either end.
    const parts3 = (s: string) => { const o = JSON.parse(s); return { boundary: o.boundary, record: JSON.stringify([o.record, o.members, o.integrations]), sealed: JSON.stringify(o.sealed) }; };
    const got = parts3(norm(JSON.stringify(found)));
    const ends = [...candidates].map(parts3);
    for (const key of ["boundary", "record", "sealed"] as const) {
      if (!ends.some((e) => e[key] === got[key])) problems.push(`${slug}: ${key} is ${got[key]}, neither ${[...new Set(ends.map((e) => e[key]))].join(" nor ")}`);
    }
  });
  return problems;
}
