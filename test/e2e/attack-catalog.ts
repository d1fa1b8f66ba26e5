// An independent catalog checker for the attack and isolation e2e tests: what a workspace's roles
// hold OUTSIDE their workspace, read straight from the PostgreSQL catalogs with SQL of its own.
// It never calls the toolkit's code (no grants.ts, no providers): it must be able to prove the
// toolkit wrong. Runs as the server's superuser so nothing (RLS, column privileges) hides a row.
//
// Scope, on purpose: the database the workspaces live in (per-database catalogs) plus the shared
// catalogs (roles, memberships, databases, tablespaces, parameters). Temporary schemas are left
// out: their objects live only as long as one session and belong to nobody else.
import type pg from "pg";

export type Sql = <T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

/** One workspace's PostgreSQL names, derived here independently: `<org>__<ws>` with `-` as `_`. */
export interface Boundary {
  readonly slug: string;
  readonly schema: string;
  readonly owner: string;
  readonly app: string;
  readonly readonly: string;
  readonly roles: readonly string[];
}

export function boundaryOf(org: string, slug: string): Boundary {
  const schema = `${org}__${slug}`.replace(/-/g, "_");
  const [owner, app, readonly] = ["owner", "app", "ro"].map((r) => `${schema}__${r}`) as [string, string, string];
  return { slug, schema, owner, app, readonly, roles: [owner, app, readonly] };
}

const TEMP = String.raw`'^pg_(toast_)?temp_'`;

// Every ACL in the database and the shared catalogs, one row per (object, grantee, privilege).
// `nsp` is the object's schema (null for database-wide and shared objects).
const ACLS = `
  SELECT 'database' AS kind, d.datname::text AS name, NULL::oid AS nsp, a.grantee, a.privilege_type, a.is_grantable FROM pg_database d, aclexplode(d.datacl) a
  UNION ALL SELECT 'schema', n.nspname::text, NULL, a.grantee, a.privilege_type, a.is_grantable FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname !~ ${TEMP}
  UNION ALL SELECT 'relation', format('%I.%I', n.nspname, c.relname), c.relnamespace, a.grantee, a.privilege_type, a.is_grantable
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
  UNION ALL SELECT 'column', format('%I.%I.%I', n.nspname, c.relname, t.attname), c.relnamespace, a.grantee, a.privilege_type, a.is_grantable
    FROM pg_attribute t JOIN pg_class c ON c.oid = t.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(t.attacl) a
  UNION ALL SELECT 'function', format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), p.pronamespace, a.grantee, a.privilege_type, a.is_grantable
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) a
  UNION ALL SELECT 'type', format('%I.%I', n.nspname, t.typname), t.typnamespace, a.grantee, a.privilege_type, a.is_grantable
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace, aclexplode(t.typacl) a
  UNION ALL SELECT 'language', l.lanname::text, NULL, a.grantee, a.privilege_type, a.is_grantable FROM pg_language l, aclexplode(l.lanacl) a
  UNION ALL SELECT 'large object', m.oid::text, NULL, a.grantee, a.privilege_type, a.is_grantable FROM pg_largeobject_metadata m, aclexplode(m.lomacl) a
  UNION ALL SELECT 'foreign data wrapper', w.fdwname::text, NULL, a.grantee, a.privilege_type, a.is_grantable FROM pg_foreign_data_wrapper w, aclexplode(w.fdwacl) a
  UNION ALL SELECT 'foreign server', s.srvname::text, NULL, a.grantee, a.privilege_type, a.is_grantable FROM pg_foreign_server s, aclexplode(s.srvacl) a
  UNION ALL SELECT 'tablespace', s.spcname::text, NULL, a.grantee, a.privilege_type, a.is_grantable FROM pg_tablespace s, aclexplode(s.spcacl) a
  UNION ALL SELECT 'parameter', p.parname, NULL, a.grantee, a.privilege_type, a.is_grantable FROM pg_parameter_acl p, aclexplode(p.paracl) a`;

// Every owned object: `nsp` is its schema, null for schemas themselves and shared objects.
const OWNERS = `
  SELECT 'schema' AS kind, n.nspname::text AS name, NULL::oid AS nsp, n.nspowner AS owner FROM pg_namespace n WHERE n.nspname !~ ${TEMP}
  UNION ALL SELECT 'relation/' || c.relkind::text, format('%I.%I', n.nspname, c.relname), c.relnamespace, c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  UNION ALL SELECT 'function', format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), p.pronamespace, p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  UNION ALL SELECT 'type', format('%I.%I', n.nspname, t.typname), t.typnamespace, t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  UNION ALL SELECT 'operator', format('%I.%s(%s,%s)', n.nspname, o.oprname, format_type(o.oprleft, NULL), format_type(o.oprright, NULL)), o.oprnamespace, o.oprowner FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
  UNION ALL SELECT 'operator class', format('%I.%I', n.nspname, x.opcname), x.opcnamespace, x.opcowner FROM pg_opclass x JOIN pg_namespace n ON n.oid = x.opcnamespace
  UNION ALL SELECT 'operator family', format('%I.%I', n.nspname, x.opfname), x.opfnamespace, x.opfowner FROM pg_opfamily x JOIN pg_namespace n ON n.oid = x.opfnamespace
  UNION ALL SELECT 'collation', format('%I.%I', n.nspname, x.collname), x.collnamespace, x.collowner FROM pg_collation x JOIN pg_namespace n ON n.oid = x.collnamespace
  UNION ALL SELECT 'conversion', format('%I.%I', n.nspname, x.conname), x.connamespace, x.conowner FROM pg_conversion x JOIN pg_namespace n ON n.oid = x.connamespace
  UNION ALL SELECT 'text search config', format('%I.%I', n.nspname, x.cfgname), x.cfgnamespace, x.cfgowner FROM pg_ts_config x JOIN pg_namespace n ON n.oid = x.cfgnamespace
  UNION ALL SELECT 'text search dictionary', format('%I.%I', n.nspname, x.dictname), x.dictnamespace, x.dictowner FROM pg_ts_dict x JOIN pg_namespace n ON n.oid = x.dictnamespace
  UNION ALL SELECT 'statistics', format('%I.%I', n.nspname, x.stxname), x.stxnamespace, x.stxowner FROM pg_statistic_ext x JOIN pg_namespace n ON n.oid = x.stxnamespace
  UNION ALL SELECT 'extension', x.extname::text, NULL, x.extowner FROM pg_extension x
  UNION ALL SELECT 'database', d.datname::text, NULL, d.datdba FROM pg_database d
  UNION ALL SELECT 'event trigger', e.evtname::text, NULL, e.evtowner FROM pg_event_trigger e
  UNION ALL SELECT 'large object', m.oid::text, NULL, m.lomowner FROM pg_largeobject_metadata m
  UNION ALL SELECT 'publication', p.pubname::text, NULL, p.pubowner FROM pg_publication p
  UNION ALL SELECT 'subscription', s.subname::text, NULL, s.subowner FROM pg_subscription s
  UNION ALL SELECT 'foreign data wrapper', w.fdwname::text, NULL, w.fdwowner FROM pg_foreign_data_wrapper w
  UNION ALL SELECT 'foreign server', s.srvname::text, NULL, s.srvowner FROM pg_foreign_server s
  UNION ALL SELECT 'tablespace', s.spcname::text, NULL, s.spcowner FROM pg_tablespace s`;

const ATTRIBUTES = ["rolsuper", "rolcreaterole", "rolcreatedb", "rolreplication", "rolbypassrls"] as const;

/**
 * Every privilege the workspace's roles hold outside their workspace, one readable line each;
 * empty when the boundary holds. `database` is the one holding the schema: CONNECT and
 * TEMPORARY on it are the only rights outside the schema a workspace may have.
 */
export async function outsideFindings(sql: Sql, ws: Boundary, database: string): Promise<string[]> {
  const roles = [...ws.roles];
  const found: string[] = [];
  for (const r of await sql<Record<string, unknown>>(`SELECT rolname, ${ATTRIBUTES.join(", ")} FROM pg_roles WHERE rolname = ANY($1)`, [roles])) {
    for (const a of ATTRIBUTES) if (r[a]) found.push(`${r.rolname} has ${a.slice(3).toUpperCase()}`);
  }
  // Memberships, direct and through other roles, in anything that is not the workspace's (the
  // shortest path to each).
  for (const r of await sql<{ member: string; role: string; via: string[] }>(`
    WITH RECURSIVE m(member, roleid, path) AS (
      SELECT a.member, a.roleid, ARRAY[a.member, a.roleid] FROM pg_auth_members a WHERE a.member IN (SELECT oid FROM pg_roles WHERE rolname = ANY($1))
      UNION
      SELECT m.member, a.roleid, m.path || a.roleid FROM m JOIN pg_auth_members a ON a.member = m.roleid WHERE a.roleid <> ALL (m.path))
    SELECT * FROM (
      SELECT DISTINCT ON (member, roleid) pg_get_userbyid(member) AS member, pg_get_userbyid(roleid) AS role,
             ARRAY(SELECT pg_get_userbyid(x)::text FROM unnest(path) WITH ORDINALITY u(x, i) ORDER BY i)::text[] AS via
      FROM m WHERE pg_get_userbyid(roleid) <> ALL ($1) ORDER BY member, roleid, cardinality(path)) shortest
    ORDER BY 1, 2`, [roles])) {
    found.push(`${r.member} is a member of ${r.role}${r.via.length > 2 ? ` (via ${r.via.join(" -> ")})` : ""}`);
  }
  for (const r of await sql<{ kind: string; name: string; grantee: string; privilege_type: string }>(`
    WITH acl AS (${ACLS})
    SELECT kind, name, pg_get_userbyid(grantee) AS grantee, privilege_type FROM acl
    WHERE grantee IN (SELECT oid FROM pg_roles WHERE rolname = ANY($1))
      AND (nsp IS NULL OR nsp <> ALL (SELECT oid FROM pg_namespace WHERE nspname = $2 OR nspname ~ ${TEMP}))
      AND NOT (kind = 'schema' AND name = $2)
      AND NOT (kind = 'database' AND name = $3 AND privilege_type IN ('CONNECT', 'TEMPORARY'))
    ORDER BY 1, 2, 3, 4`, [roles, ws.schema, database])) {
    found.push(`${r.grantee} holds ${r.privilege_type} on ${r.kind} ${r.name}`);
  }
  for (const r of await sql<{ forrole: string; nsp: string; objtype: string; grantee: string; privilege_type: string }>(`
    SELECT pg_get_userbyid(d.defaclrole) AS forrole, coalesce(n.nspname, '(all schemas)') AS nsp, d.defaclobjtype AS objtype,
           CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee, a.privilege_type
    FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
    WHERE (coalesce(n.nspname, '') <> $2) AND (
      -- someone else's future objects granted to the workspace
      (pg_get_userbyid(a.grantee) = ANY($1) AND pg_get_userbyid(d.defaclrole) <> ALL ($1))
      -- or the workspace's defaults in someone else's schema
      OR (pg_get_userbyid(d.defaclrole) = ANY($1) AND d.defaclnamespace <> 0))
    ORDER BY 1, 2, 3, 4, 5`, [roles, ws.schema])) {
    found.push(`default privileges for ${r.forrole} in ${r.nsp} (${r.objtype}) give ${r.grantee} ${r.privilege_type}`);
  }
  for (const r of await sql<{ kind: string; name: string; owner: string }>(`
    WITH o AS (${OWNERS})
    SELECT kind, name, pg_get_userbyid(owner) AS owner FROM o
    WHERE owner IN (SELECT oid FROM pg_roles WHERE rolname = ANY($1))
      AND NOT (kind = 'schema' AND name = $2)
      AND (nsp IS NULL OR nsp NOT IN (SELECT oid FROM pg_namespace WHERE nspname IN ($2, 'pg_toast') OR nspname ~ ${TEMP}))
    ORDER BY 1, 2`, [roles, ws.schema])) {
    found.push(`${r.owner} owns ${r.kind} ${r.name}`);
  }
  // Objects outside the workspace built on its objects (a trigger on a control-plane table
  // calling the workspace's function, a view over its table): its code would run there. Parts
  // of a relation (defaults, constraints, triggers, rules, policies) live where the relation does.
  for (const r of await sql<{ dependent: string; referenced: string }>(`
    WITH mine AS (
      SELECT 'pg_proc'::regclass AS cls, p.oid FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
      UNION ALL SELECT 'pg_class'::regclass, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
      UNION ALL SELECT 'pg_type'::regclass, t.oid FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1
      UNION ALL SELECT 'pg_operator'::regclass, o.oid FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE n.nspname = $1),
    deps AS (
      SELECT d.*, CASE d.classid
        WHEN 'pg_class'::regclass THEN (SELECT relnamespace FROM pg_class WHERE oid = d.objid)
        WHEN 'pg_proc'::regclass THEN (SELECT pronamespace FROM pg_proc WHERE oid = d.objid)
        WHEN 'pg_type'::regclass THEN (SELECT typnamespace FROM pg_type WHERE oid = d.objid)
        WHEN 'pg_operator'::regclass THEN (SELECT oprnamespace FROM pg_operator WHERE oid = d.objid)
        WHEN 'pg_constraint'::regclass THEN (SELECT connamespace FROM pg_constraint WHERE oid = d.objid)
        WHEN 'pg_attrdef'::regclass THEN (SELECT c.relnamespace FROM pg_attrdef a JOIN pg_class c ON c.oid = a.adrelid WHERE a.oid = d.objid)
        WHEN 'pg_trigger'::regclass THEN (SELECT c.relnamespace FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.oid = d.objid)
        WHEN 'pg_rewrite'::regclass THEN (SELECT c.relnamespace FROM pg_rewrite w JOIN pg_class c ON c.oid = w.ev_class WHERE w.oid = d.objid)
        WHEN 'pg_policy'::regclass THEN (SELECT c.relnamespace FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE p.oid = d.objid)
        WHEN 'pg_namespace'::regclass THEN d.objid
      END AS home
      FROM pg_depend d JOIN mine ON mine.cls = d.refclassid AND mine.oid = d.refobjid)
    SELECT pg_describe_object(classid, objid, objsubid) AS dependent, pg_describe_object(refclassid, refobjid, refobjsubid) AS referenced
    FROM deps LEFT JOIN pg_namespace h ON h.oid = deps.home
    WHERE h.nspname IS DISTINCT FROM $1 AND coalesce(h.nspname, '') !~ ${TEMP} AND coalesce(h.nspname, '') <> 'pg_toast'
    ORDER BY 1, 2`, [ws.schema])) {
    found.push(`${r.dependent} (outside ${ws.schema}) depends on ${r.referenced}`);
  }
  return found;
}

/**
 * The security-relevant state of the server as sorted fact lines: every non-predefined role's
 * attributes, every membership, every role or database setting, every ACL entry, every default
 * privilege, the owner and kind of every object outside the system schemas, and every trigger,
 * rule, policy and row-security flag. Two snapshots differ exactly where someone gained, lost
 * or planted something. Passwords are not in it (a rotation changes nothing here).
 */
export async function catalogFacts(sql: Sql): Promise<string[]> {
  const lines = (rows: { line: string }[]) => rows.map((r) => r.line);
  const system = `('pg_catalog', 'information_schema', 'pg_toast')`;
  const facts = [
    ...lines(await sql(`SELECT concat_ws(' ', 'role', rolname, CASE WHEN rolcanlogin THEN 'LOGIN' END, ${ATTRIBUTES.map((a) => `CASE WHEN ${a} THEN '${a.slice(3).toUpperCase()}' END`).join(", ")},
      CASE WHEN NOT rolinherit THEN 'NOINHERIT' END) AS line FROM pg_roles WHERE rolname !~ '^pg_'`)),
    ...lines(await sql(`SELECT concat_ws(' ', 'membership', pg_get_userbyid(member), 'in', pg_get_userbyid(roleid),
      CASE WHEN bool_or(admin_option) THEN 'ADMIN' END, CASE WHEN bool_or(inherit_option) THEN 'INHERIT' END, CASE WHEN bool_or(set_option) THEN 'SET' END) AS line
      FROM pg_auth_members GROUP BY member, roleid`)),
    ...lines(await sql(`SELECT concat_ws(' ', 'setting', coalesce(pg_get_userbyid(nullif(setrole, 0)), '(every role)'), 'in',
      coalesce((SELECT datname FROM pg_database WHERE oid = setdatabase), '(every database)'), array_to_string(setconfig, ' ')) AS line FROM pg_db_role_setting`)),
    ...lines(await sql(`WITH acl AS (${ACLS}) SELECT concat_ws(' ', 'acl', kind, name, CASE grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(grantee) END,
      privilege_type, CASE WHEN is_grantable THEN 'WITH GRANT OPTION' END) AS line
      FROM acl WHERE nsp IS NULL OR nsp NOT IN (SELECT oid FROM pg_namespace WHERE nspname IN ${system} OR nspname ~ ${TEMP})`)),
    ...lines(await sql(`SELECT concat_ws(' ', 'default privileges for', pg_get_userbyid(d.defaclrole), 'in', coalesce(n.nspname, '(all schemas)'), d.defaclobjtype,
      CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type) AS line
      FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a`)),
    ...lines(await sql(`WITH o AS (${OWNERS}) SELECT concat_ws(' ', 'owner of', kind, name, 'is', pg_get_userbyid(owner)) AS line FROM o
      WHERE (nsp IS NULL AND kind <> 'schema') OR (kind = 'schema' AND name NOT IN ${system} AND name !~ ${TEMP})
         OR nsp NOT IN (SELECT oid FROM pg_namespace WHERE nspname IN ${system} OR nspname ~ ${TEMP})`)),
    ...lines(await sql(`SELECT concat_ws(' ', 'trigger', t.tgname, 'on', format('%I.%I', n.nspname, c.relname), 'runs', t.tgfoid::regprocedure::text, 'enabled', t.tgenabled) AS line
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND n.nspname NOT IN ${system} AND n.nspname !~ ${TEMP}`)),
    ...lines(await sql(`SELECT concat_ws(' ', 'rule', r.rulename, 'on', format('%I.%I', n.nspname, c.relname), r.ev_type) AS line
      FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE r.rulename <> '_RETURN' AND n.nspname NOT IN ${system} AND n.nspname !~ ${TEMP}`)),
    ...lines(await sql(`SELECT concat_ws(' ', 'policy', p.polname, 'on', format('%I.%I', n.nspname, c.relname), p.polcmd,
      array_to_string(ARRAY(SELECT CASE r WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r) END FROM unnest(p.polroles) r ORDER BY 1), ',')) AS line
      FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace`)),
    ...lines(await sql(`SELECT concat_ws(' ', 'row security on', format('%I.%I', n.nspname, c.relname), CASE WHEN c.relforcerowsecurity THEN 'FORCED' END) AS line
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relrowsecurity`)),
  ];
  return [...new Set(facts)].sort();
}

/** Which workspace a fact names (by its schema or one of its roles), or "global" when none. */
export function scopesOf(fact: string, boundaries: readonly Boundary[]): string[] {
  const tokens = new Set(fact.match(/[a-z0-9_]+/g) ?? []);
  const named = boundaries.filter((b) => tokens.has(b.schema) || b.roles.some((r) => tokens.has(r))).map((b) => b.slug);
  return named.length > 0 ? named : ["global"];
}

/**
 * What changed between two snapshots in the scopes that must not change: lines "+ fact" (gained)
 * and "- fact" (lost). A fact naming both a changing and a frozen workspace counts as frozen.
 */
export function frozenChanges(before: readonly string[], after: readonly string[], boundaries: readonly Boundary[], frozen: ReadonlySet<string>): string[] {
  const was = new Set(before);
  const now = new Set(after);
  const hits = (fact: string) => scopesOf(fact, boundaries).some((s) => frozen.has(s));
  return [
    ...after.filter((f) => !was.has(f) && hits(f)).map((f) => `+ ${f}`),
    ...before.filter((f) => !now.has(f) && hits(f) && !boundaryRepair(f, boundaries)).map((f) => `- ${f}`),
  ];
}

/**
 * A privilege on a workspace's object held by PUBLIC or any role but that workspace's own,
 * taken away: what the boundary does to anything crossing it (a repair, never an
 * escalation). Facts read `acl <kind> <schema>.<object> <grantee> <privilege>`.
 */
function boundaryRepair(fact: string, boundaries: readonly Boundary[]): boolean {
  if (!fact.startsWith("acl ")) return false;
  const words = fact.split(" ");
  const grantee = words[words.length - 2]!;
  const object = words[2] ?? "";
  const home = boundaries.find((b) => object === b.schema || object.startsWith(`${b.schema}.`));
  return home !== undefined && !grantee.startsWith(`${home.schema}__`);
}
