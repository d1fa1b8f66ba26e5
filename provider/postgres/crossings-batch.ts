// The diff's crossing check (crossingSignals) for many workspaces in one query. A preview diffs
// every boundary, and each check alone reads every ACL-bearing catalog row of the database (and
// explodes the database's ACL, a grant per workspace role): at 1,000 workspaces that is 1,000
// scans of catalogs that grow with the workspaces. Batched, the calls that arrive together share
// one scan and the catalog rows are matched to their workspaces by hash joins.
//
// The workspaces travel as arrays of values (unnest($1::text[]), ...), never as SQL text. The
// query is crossings-sql.ts's CROSSINGS with a workspace ordinal `i` on every row; its results
// are settled per workspace exactly as findCrossings settles them (test/e2e/crossings-batch
// compares the two on planted crossings of every kind). A batch that fails as a whole is run
// again one workspace at a time, so one workspace's failure is its own.
import type { WorkspaceNames } from "../../components/naming.ts";
import { inTransaction, type PgConnection, type Sql } from "./client.ts";
import { crossingSignals, describeCrossing, elsewhereSignal, settleCrossings, type Crossing } from "./crossings-sql.ts";
import { microBatcher, type Settled } from "./micro-batch.ts";

export interface CrossingCheck {
  readonly names: WorkspaceNames;
  /** The workspace's own database, whose privileges beyond CONNECT are crossings. */
  readonly database: string;
}

// $1..$5: per workspace, its schema, owner, app and read-only roles, and database.
const WORKSPACES = `ws AS (SELECT w.i, w.schema, w.owner, w.app, w.ro, w.db
    FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::text[]), pg_catalog.unnest($5::text[]))
      WITH ORDINALITY AS w(schema, owner, app, ro, db, i)),
  ours AS (SELECT w.i, r.oid, r.rolname FROM ws w JOIN pg_catalog.pg_roles r ON r.rolname IN (w.owner, w.app, w.ro))`;

// Objects of a catalog in a workspace's scope: in its schema, or owned by one of its roles (the
// per-workspace query's `nsp IN s OR owner IN ours`), as (i, oid) pairs without duplicates.
const scoped = (catalog: string, namespace: string | undefined, owner: string, where: string) =>
  `(${namespace ? `SELECT s.i, o.oid FROM ${catalog} o JOIN s ON s.oid = o.${namespace} WHERE ${where} UNION ` : ""}SELECT ours.i, o.oid FROM ${catalog} o JOIN ours ON ours.oid = o.${owner} WHERE ${where})`;

const BATCH_CROSSINGS = `WITH ${WORKSPACES},
  s AS (SELECT w.i, n.oid FROM ws w JOIN pg_catalog.pg_namespace n ON n.nspname = w.schema),
  name AS (SELECT 0::oid AS oid, 'PUBLIC'::text AS rolname UNION ALL SELECT oid, rolname::text FROM pg_catalog.pg_roles),
  acl AS (
    SELECT m.i, 'schema' AS kind, 'SCHEMA' AS keyword, 'pg_catalog.pg_namespace'::pg_catalog.regclass AS classid, n.oid AS objid, 0 AS subid, NULL::name AS col, n.nspowner AS owner, n.nspacl AS acl
      FROM pg_catalog.pg_namespace n JOIN ${scoped("pg_catalog.pg_namespace", "oid", "nspowner", "o.nspacl IS NOT NULL")} m ON m.oid = n.oid
    UNION ALL
    SELECT m.i, CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, CASE WHEN c.relkind = 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
        'pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0, NULL, c.relowner, c.relacl
      FROM pg_catalog.pg_class c JOIN ${scoped("pg_catalog.pg_class", "relnamespace", "relowner", "o.relacl IS NOT NULL")} m ON m.oid = c.oid
    UNION ALL
    SELECT m.i, 'column', 'COLUMN', 'pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0, a.attname, c.relowner, a.attacl
      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
        JOIN ${scoped("pg_catalog.pg_class", "relnamespace", "relowner", "o.oid IN (SELECT attrelid FROM pg_catalog.pg_attribute WHERE attacl IS NOT NULL)")} m ON m.oid = c.oid
      WHERE a.attacl IS NOT NULL AND NOT a.attisdropped
    UNION ALL
    SELECT m.i, 'routine', 'ROUTINE', 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid, 0, NULL, p.proowner, p.proacl
      FROM pg_catalog.pg_proc p JOIN ${scoped("pg_catalog.pg_proc", "pronamespace", "proowner", "o.proacl IS NOT NULL")} m ON m.oid = p.oid
    UNION ALL
    SELECT m.i, 'type', 'TYPE', 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid, 0, NULL, t.typowner, t.typacl
      FROM pg_catalog.pg_type t JOIN ${scoped("pg_catalog.pg_type", "typnamespace", "typowner", "o.typacl IS NOT NULL")} m ON m.oid = t.oid
    UNION ALL
    SELECT ours.i, 'large-object', 'LARGE OBJECT', 'pg_catalog.pg_largeobject'::pg_catalog.regclass, l.oid, 0, NULL, l.lomowner, l.lomacl
      FROM pg_catalog.pg_largeobject_metadata l JOIN ours ON ours.oid = l.lomowner WHERE l.lomacl IS NOT NULL
    UNION ALL
    SELECT ours.i, 'foreign-data-wrapper', 'FOREIGN DATA WRAPPER', 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass, w.oid, 0, NULL, w.fdwowner, w.fdwacl
      FROM pg_catalog.pg_foreign_data_wrapper w JOIN ours ON ours.oid = w.fdwowner WHERE w.fdwacl IS NOT NULL
    UNION ALL
    SELECT ours.i, 'foreign-server', 'FOREIGN SERVER', 'pg_catalog.pg_foreign_server'::pg_catalog.regclass, f.oid, 0, NULL, f.srvowner, f.srvacl
      FROM pg_catalog.pg_foreign_server f JOIN ours ON ours.oid = f.srvowner WHERE f.srvacl IS NOT NULL
  )
SELECT acl.i, acl.kind, pg_catalog.current_database()::text AS database,
    i.identity || coalesce('.' || pg_catalog.quote_ident(acl.col), '') AS object, g.rolname AS role, x.privilege_type AS detail,
    gr.rolname AS grantor, pg_catalog.pg_has_role(current_user, x.grantor, 'SET') AS "actAsGrantor",
    CASE WHEN acl.col IS NOT NULL THEN pg_catalog.format('REVOKE %s (%I) ON TABLE %s FROM %s CASCADE', x.privilege_type, acl.col, i.identity, CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(g.rolname) END)
      ELSE pg_catalog.format('REVOKE %s ON %s %s FROM %s CASCADE', x.privilege_type, acl.keyword, i.identity, CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(g.rolname) END) END AS revoke
  FROM acl CROSS JOIN LATERAL pg_catalog.aclexplode(acl.acl) x JOIN name g ON g.oid = x.grantee JOIN name gr ON gr.oid = x.grantor
    CROSS JOIN LATERAL pg_catalog.pg_identify_object(acl.classid, acl.objid, acl.subid) i
  WHERE NOT EXISTS (SELECT 1 FROM ours WHERE ours.i = acl.i AND ours.oid = x.grantee) AND x.grantee <> acl.owner
UNION ALL
SELECT o.i, 'default', pg_catalog.current_database()::text, o.rolname || coalesce(' in ' || pg_catalog.quote_ident(dn.nspname), '') || ' on ' || d.defaclobjtype::text,
    g.rolname, x.privilege_type, gr.rolname, pg_catalog.pg_has_role(current_user, x.grantor, 'SET'),
    pg_catalog.format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s REVOKE %s ON %s FROM %s CASCADE', o.rolname, coalesce(' IN SCHEMA ' || pg_catalog.quote_ident(dn.nspname), ''), x.privilege_type,
      CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES' WHEN 'n' THEN 'SCHEMAS' ELSE 'LARGE OBJECTS' END,
      CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(g.rolname) END)
  FROM pg_catalog.pg_default_acl d JOIN ours o ON o.oid = d.defaclrole LEFT JOIN pg_catalog.pg_namespace dn ON dn.oid = d.defaclnamespace AND d.defaclnamespace <> 0
    CROSS JOIN LATERAL pg_catalog.aclexplode(d.defaclacl) x JOIN name g ON g.oid = x.grantee JOIN name gr ON gr.oid = x.grantor
  WHERE NOT EXISTS (SELECT 1 FROM ours mine WHERE mine.i = o.i AND mine.oid = x.grantee) AND (x.grantee <> 0 OR d.defaclnamespace <> 0)
UNION ALL
SELECT o.i, 'member-of', pg_catalog.current_database()::text, o.rolname::text, r.rolname::text, 'membership', gr.rolname::text, pg_catalog.pg_has_role(current_user, m.grantor, 'USAGE'),
    pg_catalog.format('REVOKE %I FROM %I GRANTED BY %I CASCADE', r.rolname, o.rolname, gr.rolname)
  FROM pg_catalog.pg_auth_members m JOIN ours o ON o.oid = m.member JOIN pg_catalog.pg_roles r ON r.oid = m.roleid JOIN pg_catalog.pg_roles gr ON gr.oid = m.grantor
UNION ALL
SELECT o.i, 'has-member', pg_catalog.current_database()::text, o.rolname::text, r.rolname::text, 'membership', gr.rolname::text, pg_catalog.pg_has_role(current_user, m.grantor, 'USAGE'),
    pg_catalog.format('REVOKE %I FROM %I GRANTED BY %I CASCADE', o.rolname, r.rolname, gr.rolname)
  FROM pg_catalog.pg_auth_members m JOIN ours o ON o.oid = m.roleid JOIN ws w ON w.i = o.i JOIN pg_catalog.pg_roles r ON r.oid = m.member JOIN pg_catalog.pg_roles gr ON gr.oid = m.grantor
  WHERE r.rolname <> current_user AND NOT EXISTS (SELECT 1 FROM ours mine WHERE mine.i = o.i AND mine.oid = r.oid)
    -- As in CROSSINGS: the read-only role may be granted to people, never to workspace roles.
    AND (o.rolname <> w.ro OR r.rolname ~ '__(owner|app|ro)$')
UNION ALL
SELECT o.i, 'database', pg_catalog.current_database()::text, db.datname::text, o.rolname::text, x.privilege_type, gr.rolname, pg_catalog.pg_has_role(current_user, x.grantor, 'SET'),
    pg_catalog.format('REVOKE %s ON DATABASE %I FROM %I CASCADE', x.privilege_type, db.datname, o.rolname)
  FROM pg_catalog.pg_database db CROSS JOIN LATERAL pg_catalog.unnest(db.datacl) item CROSS JOIN LATERAL pg_catalog.aclexplode(ARRAY[item]) x
    JOIN ours o ON o.oid = x.grantee JOIN ws w ON w.i = o.i AND w.db = db.datname JOIN name gr ON gr.oid = x.grantor
  WHERE db.datname IN (SELECT db FROM ws) AND x.privilege_type <> 'CONNECT'`;

// crossingSignals' second query: other databases where a workspace role owns an object that
// carries another role's privilege (pg_shdepend).
const BATCH_ELSEWHERE = `WITH ${WORKSPACES}
  SELECT DISTINCT mine.i, d.datname::text AS database FROM pg_catalog.pg_shdepend o JOIN ours mine ON mine.oid = o.refobjid JOIN pg_catalog.pg_database d ON d.oid = o.dbid
  WHERE o.deptype = 'o' AND d.datname <> pg_catalog.current_database()
    AND EXISTS (SELECT 1 FROM pg_catalog.pg_shdepend a WHERE a.dbid = o.dbid AND a.classid = o.classid AND a.objid = o.objid
      AND a.deptype = 'a' AND NOT EXISTS (SELECT 1 FROM ours x WHERE x.i = mine.i AND x.oid = a.refobjid))`;

const columns = (checks: readonly CrossingCheck[]) => [
  checks.map((c) => c.names.schema), checks.map((c) => c.names.owner), checks.map((c) => c.names.app), checks.map((c) => c.names.readonly), checks.map((c) => c.database),
];

/** crossingSignals of every check, in one transaction of two queries; results in the checks' order. */
export async function batchCrossingSignals(sql: Sql, checks: readonly CrossingCheck[]): Promise<string[][]> {
  const values = columns(checks);
  const here = await sql.query({ name: "tenancy-crossings-batch", text: BATCH_CROSSINGS, values });
  const elsewhere = await sql.query({ name: "tenancy-crossings-elsewhere-batch", text: BATCH_ELSEWHERE, values });
  const rows = checks.map(() => [] as Crossing[]);
  for (const { i, ...c } of here.rows as (Crossing & { i: string })[]) rows[Number(i) - 1]!.push(c);
  const other = checks.map(() => [] as string[]);
  for (const r of elsewhere.rows as { i: string; database: string }[]) other[Number(r.i) - 1]!.push(r.database);
  return checks.map((c, k) => [...settleCrossings(rows[k]!, true).map(describeCrossing), ...other[k]!.map((database) => elsewhereSignal(database, c.names))]);
}

/** Workspaces per query at most: the arrays stay small, a statement stays short. */
export const BATCH_CAP = 200;

/** Batches of this many workspaces or more are planned for their own arrays (see runBatch). */
const CUSTOM_PLAN_FROM = 32;

const batchers = new Map<string, (check: CrossingCheck) => Promise<string[]>>();

/**
 * crossingSignals for one workspace, batched with the other calls of the moment on the same
 * server and admin. A batch that fails is run again one workspace at a time: each caller gets
 * its own result or its own error, never another workspace's.
 */
export function crossingSignalsBatched(connection: PgConnection, check: CrossingCheck): Promise<string[]> {
  const key = JSON.stringify([connection.host, Number(connection.port), connection.database, connection.user, connection.password]);
  let batcher = batchers.get(key);
  if (!batcher) {
    batcher = microBatcher((checks) => runBatch(connection, checks), { cap: BATCH_CAP, concurrency: 1 });
    batchers.set(key, batcher);
  }
  return batcher(check);
}

async function runBatch(connection: PgConnection, checks: readonly CrossingCheck[]): Promise<Settled<string[]>[]> {
  const one = (c: CrossingCheck) => inTransaction(connection, (sql) => crossingSignals(sql, c.names, c.database))
    .then((value): Settled<string[]> => ({ ok: true, value }), (error: unknown): Settled<string[]> => ({ ok: false, error }));
  if (checks.length === 1) return [await one(checks[0]!)];
  try {
    return (await checkTogether(connection, checks)).map((value) => ({ ok: true, value }));
  } catch {
    // One at a time, in turn: what failed the batch fails only the workspaces it concerns.
    const settled: Settled<string[]>[] = [];
    for (const c of checks) settled.push(await one(c));
    return settled;
  }
}

/** One batch in one transaction, without runBatch's fallback: its failure is the batch's. */
export function checkTogether(connection: PgConnection, checks: readonly CrossingCheck[]): Promise<string[][]> {
  return inTransaction(connection, async (sql) => {
    // Large batches get a plan for their own arrays: after five runs the server switches the
    // named statement to a generic plan, which guesses the arrays' sizes. Measured at 1,000
    // workspaces (all checked, in one transaction): batches of 50 took 0.6 s custom against
    // 1.7 s generic, of 200 0.6 s against 1.4 s; of 8 (the engine's default parallelism on 2
    // cores) 4.7-5.2 s custom against 3.9-4.4 s generic, so small batches keep the default.
    if (checks.length >= CUSTOM_PLAN_FROM) await sql.query("SET LOCAL plan_cache_mode = force_custom_plan");
    return batchCrossingSignals(sql, checks);
  });
}
