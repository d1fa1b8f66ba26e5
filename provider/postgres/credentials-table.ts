// The sealed-credentials table of a workspace (CREDENTIALS_TABLE in its schema). The workspace's
// app role can create objects in its schema, so everything there is treated as attacker-made:
// the table is created with the workspace, owned by the workspace's owner role, and before the
// toolkit reads or writes it, it is locked and checked to be exactly the plain table it made —
// no trigger, rule, policy, row security, inheritance, foreign key, extra index or column, and no
// expression that calls anything outside pg_catalog. Anything else is refused, naming the object;
// the toolkit never runs code a workspace can change.
import { structureProblems, type CredentialsTableFacts } from "../../components/credentials-table.ts";
import { CREDENTIALS_TABLE } from "../../components/naming.ts";
import { asRole, type Sql } from "./client.ts";

export interface TableNames { readonly schema: string; readonly owner: string; readonly app: string }

/** The table's definition, after `CREATE TABLE <name>`. */
export const CREDENTIALS_COLUMNS = `(
      slug pg_catalog.text PRIMARY KEY,
      provider pg_catalog.text NOT NULL,
      ciphertext pg_catalog.bytea NOT NULL,
      nonce pg_catalog.bytea NOT NULL CHECK (pg_catalog.octet_length(nonce) = 12),
      key_id pg_catalog.text NOT NULL,
      updated_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now())`;

export const qualified = (sql: Sql, n: TableNames) => `${sql.escapeIdentifier(n.schema)}.${sql.escapeIdentifier(CREDENTIALS_TABLE)}`;
const display = (n: TableNames) => `${n.schema}.${CREDENTIALS_TABLE}`;

interface Found { oid: number; relkind: string; owner: string }

async function find(sql: Sql, n: TableNames): Promise<Found | undefined> {
  const r = await sql.query(`SELECT c.oid::int8 AS oid, c.relkind::text AS relkind, pg_catalog.pg_get_userbyid(c.relowner) AS owner
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = $1 AND c.relname = $2`, [n.schema, CREDENTIALS_TABLE]);
  const row = r.rows[0];
  return row ? { oid: Number(row.oid), relkind: row.relkind, owner: row.owner } : undefined;
}

/**
 * The table's facts (components/credentials-table.ts) as one JSON value, for the pg_class row
 * `c`: every name qualified, so it reads the same under any search_path. The audit reads it for
 * every workspace in its one relations query.
 */
export const CREDENTIALS_FACTS = `pg_catalog.json_build_object(
    'relkind', c.relkind::pg_catalog.text, 'owner', pg_catalog.pg_get_userbyid(c.relowner)::pg_catalog.text,
    'rowSecurity', c.relrowsecurity, 'forceRowSecurity', c.relforcerowsecurity, 'partition', c.relispartition,
    'triggers', (SELECT count(*) FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid)::int,
    'rules', (SELECT count(*) FROM pg_catalog.pg_rewrite w WHERE w.ev_class = c.oid)::int,
    'policies', (SELECT count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid)::int,
    'inheritance', (SELECT count(*) FROM pg_catalog.pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid)::int,
    'indexes', (SELECT count(*) FROM pg_catalog.pg_index x WHERE x.indrelid = c.oid AND NOT (x.indisprimary AND x.indexprs IS NULL AND x.indpred IS NULL))::int,
    'columns', (SELECT pg_catalog.array_agg(a.attname::text || ':' || a.atttypid::int8 || ':' || a.atthasdef || ':' || (a.attgenerated <> '') ORDER BY a.attnum)
      FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
    'constraints', (SELECT pg_catalog.array_agg(k.contype::text || ':' || pg_catalog.pg_get_constraintdef(k.oid) ORDER BY k.conname)
      FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype <> 'n'),
    -- Anything attached to the table (defaults, constraints, the index) may only call pg_catalog.
    'foreign', (SELECT pg_catalog.array_agg(d.refclassid::pg_catalog.regclass::pg_catalog.text ORDER BY d.refclassid, d.refobjid) FROM (
        -- One index lookup per kind of dependent (an OR of them scans pg_depend once per table).
        SELECT e.refclassid, e.refobjid FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_depend e
          ON e.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND e.objid = k.oid WHERE k.conrelid = c.oid
        UNION ALL SELECT e.refclassid, e.refobjid FROM pg_catalog.pg_attrdef ad JOIN pg_catalog.pg_depend e
          ON e.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND e.objid = ad.oid WHERE ad.adrelid = c.oid
        UNION ALL SELECT e.refclassid, e.refobjid FROM pg_catalog.pg_depend e
          WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.objid = c.oid
        UNION ALL SELECT e.refclassid, e.refobjid FROM pg_catalog.pg_index x JOIN pg_catalog.pg_depend e
          ON e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND e.objid = x.indexrelid WHERE x.indrelid = c.oid) d
      WHERE CASE d.refclassid
          WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN (SELECT p.pronamespace FROM pg_catalog.pg_proc p WHERE p.oid = d.refobjid)
          WHEN 'pg_catalog.pg_operator'::pg_catalog.regclass THEN (SELECT o.oprnamespace FROM pg_catalog.pg_operator o WHERE o.oid = d.refobjid)
          WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN (SELECT t.typnamespace FROM pg_catalog.pg_type t WHERE t.oid = d.refobjid)
          WHEN 'pg_catalog.pg_collation'::pg_catalog.regclass THEN (SELECT l.collnamespace FROM pg_catalog.pg_collation l WHERE l.oid = d.refobjid)
          WHEN 'pg_catalog.pg_opclass'::pg_catalog.regclass THEN (SELECT o.opcnamespace FROM pg_catalog.pg_opclass o WHERE o.oid = d.refobjid)
          ELSE 'pg_catalog'::pg_catalog.regnamespace END <> 'pg_catalog'::pg_catalog.regnamespace))`;

/** What is wrong with the table, from the catalogs alone; empty when it is the toolkit's plain table. */
export async function tableProblems(sql: Sql, oid: number): Promise<string[]> {
  const r = (await sql.query(`SELECT ${CREDENTIALS_FACTS} AS facts FROM pg_catalog.pg_class c WHERE c.oid = $1`, [oid])).rows[0];
  if (!r) return [`it disappeared`];
  return structureProblems(r.facts as CredentialsTableFacts);
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
    await asRole(sql, n.owner, () => sql.query(`CREATE TABLE ${table} ${CREDENTIALS_COLUMNS}`));
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
