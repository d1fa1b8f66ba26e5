// The sealed-credentials table of a workspace (CREDENTIALS_TABLE in its schema). The workspace's
// app role can create objects in its schema, so everything there is treated as attacker-made:
// the table is created with the workspace, owned by the workspace's owner role, and before the
// toolkit reads or writes it, it is locked and checked to be exactly the plain table it made —
// no trigger, rule, policy, row security, inheritance, foreign key, extra index or column, and no
// expression that calls anything outside pg_catalog. Anything else is refused, naming the object;
// the toolkit never runs code a workspace can change.
import { CREDENTIALS_TABLE } from "../../components/naming.ts";
import { asRole, type Sql } from "./client.ts";

/** Columns by name: type oid (pg_catalog.text 25, bytea 17, timestamptz 1184). */
const COLUMNS: Record<string, number> = { slug: 25, provider: 25, ciphertext: 17, nonce: 17, key_id: 25, updated_at: 1184 };
// NOT NULL constraints (catalogued since PostgreSQL 18) run nothing and are not listed.
const CONSTRAINTS = new Set(["p:PRIMARY KEY (slug)", "c:CHECK ((octet_length(nonce) = 12))"]);

export interface TableNames { readonly schema: string; readonly owner: string; readonly app: string }

export const qualified = (sql: Sql, n: TableNames) => `${sql.escapeIdentifier(n.schema)}.${sql.escapeIdentifier(CREDENTIALS_TABLE)}`;
const display = (n: TableNames) => `${n.schema}.${CREDENTIALS_TABLE}`;

interface Found { oid: number; relkind: string; owner: string }

async function find(sql: Sql, n: TableNames): Promise<Found | undefined> {
  const r = await sql.query(`SELECT c.oid::int8 AS oid, c.relkind::text AS relkind, pg_catalog.pg_get_userbyid(c.relowner) AS owner
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relname = $2`, [n.schema, CREDENTIALS_TABLE]);
  const row = r.rows[0];
  return row ? { oid: Number(row.oid), relkind: row.relkind, owner: row.owner } : undefined;
}

/** What is wrong with the table, from the catalogs alone; empty when it is the toolkit's plain table. */
export async function tableProblems(sql: Sql, oid: number): Promise<string[]> {
  const problems: string[] = [];
  const r = (await sql.query(`SELECT c.relrowsecurity, c.relforcerowsecurity, c.relispartition,
      (SELECT count(*) FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid)::int AS triggers,
      (SELECT count(*) FROM pg_catalog.pg_rewrite w WHERE w.ev_class = c.oid)::int AS rules,
      (SELECT count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid)::int AS policies,
      (SELECT count(*) FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid)::int AS inheritance,
      (SELECT count(*) FROM pg_catalog.pg_index x WHERE x.indrelid = c.oid AND NOT (x.indisprimary AND x.indexprs IS NULL AND x.indpred IS NULL))::int AS indexes,
      (SELECT pg_catalog.array_agg(a.attname::text || ':' || a.atttypid::int8 || ':' || a.atthasdef || ':' || (a.attgenerated <> '')) FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
      (SELECT pg_catalog.array_agg(k.contype::text || ':' || pg_catalog.pg_get_constraintdef(k.oid)) FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype <> 'n') AS constraints
    FROM pg_catalog.pg_class c WHERE c.oid = $1`, [oid])).rows[0];
  if (!r) return [`it disappeared`];
  if (r.triggers > 0) problems.push(`it has ${r.triggers} trigger(s)`);
  if (r.rules > 0) problems.push(`it has ${r.rules} rule(s)`);
  if (r.policies > 0 || r.relrowsecurity || r.relforcerowsecurity) problems.push("it has row-level security or policies");
  if (r.inheritance > 0 || r.relispartition) problems.push("it takes part in inheritance or partitioning");
  if (r.indexes > 0) problems.push(`it has ${r.indexes} index(es) besides its primary key`);
  const columns = new Map<string, string[]>(((r.columns ?? []) as string[]).map((c) => { const [name, ...rest] = c.split(":"); return [name!, rest]; }));
  for (const [name, [type, hasDefault, generated] = []] of columns) {
    if (COLUMNS[name] === undefined) problems.push(`it has an unexpected column "${name}"`);
    else if (Number(type) !== COLUMNS[name]) problems.push(`column "${name}" has an unexpected type`);
    else if (generated === "true" || (hasDefault === "true" && name !== "updated_at")) problems.push(`column "${name}" has a default or generated expression`);
  }
  for (const name of Object.keys(COLUMNS)) if (!columns.has(name)) problems.push(`column "${name}" is missing`);
  for (const k of (r.constraints ?? []) as string[]) if (!CONSTRAINTS.has(k)) problems.push(`it has an unexpected constraint: ${k.slice(2)}`);
  // Anything attached to the table (defaults, constraints, the index) may only call pg_catalog.
  const foreign = await sql.query(`SELECT d.refclassid::pg_catalog.regclass::text AS kind, d.refobjid::int8 AS oid FROM pg_catalog.pg_depend d
    WHERE ((d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND d.objid IN (SELECT k.oid FROM pg_catalog.pg_constraint k WHERE k.conrelid = $1))
        OR (d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid IN (SELECT ad.oid FROM pg_catalog.pg_attrdef ad WHERE ad.adrelid = $1))
        OR (d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND (d.objid = $1 OR d.objid IN (SELECT x.indexrelid FROM pg_catalog.pg_index x WHERE x.indrelid = $1))))
      AND CASE d.refclassid
        WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN (SELECT p.pronamespace FROM pg_catalog.pg_proc p WHERE p.oid = d.refobjid)
        WHEN 'pg_catalog.pg_operator'::pg_catalog.regclass THEN (SELECT o.oprnamespace FROM pg_catalog.pg_operator o WHERE o.oid = d.refobjid)
        WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN (SELECT t.typnamespace FROM pg_catalog.pg_type t WHERE t.oid = d.refobjid)
        WHEN 'pg_catalog.pg_collation'::pg_catalog.regclass THEN (SELECT l.collnamespace FROM pg_catalog.pg_collation l WHERE l.oid = d.refobjid)
        WHEN 'pg_catalog.pg_opclass'::pg_catalog.regclass THEN (SELECT o.opcnamespace FROM pg_catalog.pg_opclass o WHERE o.oid = d.refobjid)
        ELSE 'pg_catalog'::pg_catalog.regnamespace END <> 'pg_catalog'::pg_catalog.regnamespace`, [oid]);
  if ((foreign.rowCount ?? 0) > 0) problems.push(`it depends on ${foreign.rowCount} object(s) outside pg_catalog (${[...new Set(foreign.rows.map((f) => f.kind))].join(", ")})`);
  return problems;
}

/**
 * Inside a transaction: creates the table when absent (as the owner role), or checks the one
 * there; then leaves exactly owner + SELECT for the app on it. Throws, naming the table, when
 * the table there is not the toolkit's.
 */
export async function ensureCredentialsTable(sql: Sql, n: TableNames): Promise<void> {
  const found = await find(sql, n);
  const table = qualified(sql, n);
  if (!found) {
    // Owned by the owner role from the first moment: the app role cannot add triggers, rules or
    // policies to a table it does not own, nor replace it.
    await asRole(sql, n.owner, () => sql.query(`CREATE TABLE ${table} (
      slug pg_catalog.text PRIMARY KEY,
      provider pg_catalog.text NOT NULL,
      ciphertext pg_catalog.bytea NOT NULL,
      nonce pg_catalog.bytea NOT NULL CHECK (pg_catalog.octet_length(nonce) = 12),
      key_id pg_catalog.text NOT NULL,
      updated_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now())`));
  } else {
    await lockVerified(sql, n);
  }
  // Exactly owner + app(SELECT): whatever default privileges or a person granted goes.
  const others = await sql.query<{ rolname: string }>(`SELECT DISTINCT r.rolname FROM pg_catalog.pg_class t
      CROSS JOIN LATERAL pg_catalog.aclexplode(t.relacl) a JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
      WHERE t.oid = $1::pg_catalog.regclass AND r.rolname <> $2`, [`${n.schema}.${CREDENTIALS_TABLE}`, n.owner]);
  for (const { rolname } of others.rows) await sql.query(`REVOKE ALL ON TABLE ${table} FROM ${sql.escapeIdentifier(rolname)}`);
  await sql.query(`REVOKE ALL ON TABLE ${table} FROM PUBLIC`);
  await sql.query(`GRANT SELECT ON TABLE ${table} TO ${sql.escapeIdentifier(n.app)}`);
}

/** Locks the table against concurrent change and checks it; throws naming it when it is not ours. */
export async function lockVerified(sql: Sql, n: TableNames): Promise<void> {
  const found = await find(sql, n);
  const refuse = (why: string) => new Error(`refusing to use ${display(n)}: ${why}. Something in the workspace (its app role, or a person) changed or replaced it; inspect it, then drop it and run the apply again`);
  if (!found) throw refuse("it does not exist");
  if (found.relkind !== "r") throw refuse(`it is not a plain table (relkind '${found.relkind}')`);
  if (found.owner !== n.owner) throw refuse(`it is owned by "${found.owner}", not the workspace's owner role "${n.owner}"`);
  // SHARE ROW EXCLUSIVE: no trigger, rule, policy, index or ALTER can land until commit.
  await sql.query(`LOCK TABLE ONLY ${qualified(sql, n)} IN SHARE ROW EXCLUSIVE MODE`);
  const problems = await tableProblems(sql, found.oid);
  if (problems.length > 0) throw refuse(problems.join("; "));
}

/** Whether the table is present and sound, for read: "ok", "absent", or what is wrong. */
export async function tableStatus(sql: Sql, n: TableNames): Promise<string> {
  const found = await find(sql, n);
  if (!found) return "absent";
  if (found.relkind !== "r") return `not a plain table (relkind '${found.relkind}')`;
  if (found.owner !== n.owner) return `owned by "${found.owner}"`;
  const problems = await tableProblems(sql, found.oid);
  return problems.length > 0 ? problems.join("; ") : "ok";
}
