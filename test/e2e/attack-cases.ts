// The hostile plantings of the attack e2e test, each a list of SQL statements run as a
// workspace's app role (a real login), plus the superuser's scrub that undoes a successful
// escalation so one broken case does not poison the next.
import type pg from "pg";
import { CREDENTIALS_TABLE } from "../../components/naming.ts";
import type { Boundary, Sql } from "./attack-catalog.ts";
import { ADMIN, CONTROL, payload, plpgsql } from "./attack-plant.ts";

const id = (s: string) => `"${s.replace(/"/g, '""')}"`;

export interface Shape { readonly columns: string[]; readonly constraints: string[]; readonly key: string }

/**
 * The credentials table's columns and keys, copied from a workspace that has one (so a planted
 * table accepts the toolkit's writes and its hooks fire), or the current layout when none does.
 */
export async function credentialsShape(su: Sql, reference: string): Promise<Shape> {
  const table = `${id(reference)}.${id(CREDENTIALS_TABLE)}`;
  const cols = await su<{ attname: string; type: string; notnull: boolean; def: string | null }>(`
    SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS def
    FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, [table]);
  if (cols.length === 0) {
    return {
      columns: ["slug text", "provider text NOT NULL", "ciphertext bytea NOT NULL", "nonce bytea NOT NULL", "key_id text NOT NULL", "updated_at timestamptz NOT NULL DEFAULT now()"],
      constraints: ["PRIMARY KEY (slug)"], key: "slug",
    };
  }
  const cons = await su<{ def: string; contype: string; key: string | null }>(`
    SELECT pg_get_constraintdef(c.oid) AS def, c.contype,
           (SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = c.conkey[1]) AS key
    FROM pg_constraint c WHERE c.conrelid = to_regclass($1) AND c.contype IN ('p', 'u', 'c') ORDER BY c.contype DESC`, [table]);
  return {
    columns: cols.map((c) => [id(c.attname), c.type, c.notnull ? "NOT NULL" : "", c.def && !c.def.includes(reference) ? `DEFAULT ${c.def}` : ""].filter(Boolean).join(" ")),
    constraints: cons.map((c) => c.def),
    key: cons.find((c) => c.contype === "p")?.key ?? cols[0]!.attname,
  };
}

export interface Planting {
  /** Short id, also the canary label's prefix after the workspace slug. */
  readonly id: string;
  readonly description: string;
  /** Objects whose name a refusal may quote, as `schema.object`. */
  readonly objects: string[];
  readonly sql: string[];
  /** Superuser SQL that removes what was planted (run only when the app still owns it). */
  readonly cleanup: string[];
}

type Ctx = { self: Boundary; others: readonly Boundary[]; database: string; shape: Shape };

function fn(ctx: Ctx, name: string, args: string, ret: string, label: string, tail = "", returns = "true", extra = ""): string[] {
  const q = `${id(ctx.self.schema)}.${name}`;
  return [
    `CREATE FUNCTION ${q}(${args}) RETURNS ${ret} LANGUAGE plpgsql ${extra} AS ${plpgsql(payload(ctx.self, ctx.others, ctx.database, `${ctx.self.slug}:${label}`) + tail, returns)}`,
    `GRANT EXECUTE ON FUNCTION ${q}(${args}) TO PUBLIC`,
  ];
}

/** The credentials table, planted by the app before the workspace has any integration. */
export function credentialsPlantings(ctx: Ctx): Planting[] {
  const s = id(ctx.self.schema);
  const t = `${s}.${id(CREDENTIALS_TABLE)}`;
  const name = `${ctx.self.schema}.${CREDENTIALS_TABLE}`;
  const body = [...ctx.shape.columns, ...ctx.shape.constraints];
  const key = id(ctx.shape.key);
  const drop = (...more: string[]) => [`DROP VIEW IF EXISTS ${t} CASCADE`, `DROP TABLE IF EXISTS ${t} CASCADE`, ...more];
  const rowTail = "IF NEW IS NULL THEN RETURN OLD; END IF;";
  return [
    {
      id: "a-trigger", description: "(a) credentials table planted before any integration, with row and statement triggers",
      objects: [name],
      sql: [
        `CREATE TABLE ${t} (${body.join(", ")})`,
        ...fn(ctx, "attack_a_row", "", "trigger", "a-trigger:row", rowTail, "NEW"),
        ...fn(ctx, "attack_a_stmt", "", "trigger", "a-trigger:statement", "", "NULL"),
        `CREATE TRIGGER attack_a_row BEFORE INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${s}.attack_a_row()`,
        `CREATE TRIGGER attack_a_stmt AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION ${s}.attack_a_stmt()`,
      ],
      cleanup: drop(`DROP FUNCTION IF EXISTS ${s}.attack_a_row(), ${s}.attack_a_stmt()`),
    },
    {
      id: "c-view", description: "(c) a view named like the credentials table, over the app's own table, WITH CHECK OPTION calling planted code",
      objects: [name],
      sql: [
        `CREATE TABLE ${s}.attack_c_backing (${body.join(", ")})`,
        ...fn(ctx, "attack_c_check", "", "boolean", "c-view:check"),
        `CREATE VIEW ${t} AS SELECT * FROM ${s}.attack_c_backing WHERE ${s}.attack_c_check() WITH CASCADED CHECK OPTION`,
      ],
      cleanup: drop(`DROP TABLE IF EXISTS ${s}.attack_c_backing CASCADE`, `DROP FUNCTION IF EXISTS ${s}.attack_c_check()`),
    },
    {
      id: "d-rls-rule", description: "(d) forced row-level security policy and an ON DELETE rule on the planted credentials table",
      objects: [name],
      sql: [
        `CREATE TABLE ${t} (${body.join(", ")})`,
        ...fn(ctx, "attack_d_policy", "", "boolean", "d-rls-rule:policy"),
        ...fn(ctx, "attack_d_rule", "", "boolean", "d-rls-rule:rule"),
        `ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`,
        `ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`,
        `CREATE POLICY attack_d ON ${t} USING (${s}.attack_d_policy()) WITH CHECK (${s}.attack_d_policy())`,
        `CREATE RULE attack_d_rule AS ON DELETE TO ${t} DO ALSO SELECT ${s}.attack_d_rule()`,
      ],
      cleanup: drop(`DROP FUNCTION IF EXISTS ${s}.attack_d_policy(), ${s}.attack_d_rule()`),
    },
    {
      id: "f-expressions", description: "(f) DEFAULT, CHECK, generated-column and index-expression functions on the planted credentials table",
      objects: [name],
      sql: [
        ...fn(ctx, "attack_f_default", "", "integer", "f-expressions:default", "", "1"),
        ...fn(ctx, "attack_f_check", "text", "boolean", "f-expressions:check", "", "true", "IMMUTABLE"),
        ...fn(ctx, "attack_f_index", "text", "text", "f-expressions:index", "", "$1", "IMMUTABLE"),
        `CREATE TABLE ${t} (${[...body, `attack_extra integer DEFAULT ${s}.attack_f_default()`,
          `attack_generated text GENERATED ALWAYS AS (${s}.attack_f_index(${key}::text)) STORED`, `CHECK (${s}.attack_f_check(${key}::text))`].join(", ")})`,
        `CREATE INDEX attack_f_idx ON ${t} (${s}.attack_f_index(${key}::text))`,
      ],
      cleanup: drop(`DROP FUNCTION IF EXISTS ${s}.attack_f_default(), ${s}.attack_f_check(text), ${s}.attack_f_index(text)`),
    },
  ];
}

/** (h): objects of the app's that decommissioning (REASSIGN/DROP OWNED, DROP SCHEMA) will touch. */
export function decommissionTraps(ctx: Ctx): string[] {
  const s = id(ctx.self.schema);
  return [
    `CREATE TABLE ${s}.attack_h_table (id integer PRIMARY KEY, note text DEFAULT 'x')`,
    `INSERT INTO ${s}.attack_h_table VALUES (1), (2)`,
    ...fn(ctx, "attack_h_row", "", "trigger", "h:row", "IF NEW IS NULL THEN RETURN OLD; END IF;", "NEW"),
    ...fn(ctx, "attack_h_stmt", "", "trigger", "h:statement", "", "NULL"),
    `CREATE TRIGGER attack_h_row BEFORE INSERT OR UPDATE OR DELETE ON ${s}.attack_h_table FOR EACH ROW EXECUTE FUNCTION ${s}.attack_h_row()`,
    `CREATE TRIGGER attack_h_stmt AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${s}.attack_h_table FOR EACH STATEMENT EXECUTE FUNCTION ${s}.attack_h_stmt()`,
    // A SECURITY DEFINER function becomes the owner's after REASSIGN OWNED: anyone able to call it
    // would then act with the owner's (or, reassigned to the admin, the admin's) rights.
    ...fn(ctx, "attack_h_definer", "", "boolean", "h:definer", "", "true", "SECURITY DEFINER"),
    ...fn(ctx, "attack_h_domain_check", "integer", "boolean", "h:domain", "", "true", "IMMUTABLE"),
    `CREATE DOMAIN ${s}.attack_h_domain AS integer CHECK (${s}.attack_h_domain_check(VALUE))`,
    `CREATE TABLE ${s}.attack_h_typed (v ${s}.attack_h_domain, w text DEFAULT (${s}.attack_h_definer())::text)`,
    `CREATE VIEW ${s}.attack_h_view AS SELECT id FROM ${s}.attack_h_table WHERE ${s}.attack_h_definer()`,
    `CREATE SEQUENCE ${s}.attack_h_seq`,
    `CREATE TYPE ${s}.attack_h_type AS (x integer)`,
    `ALTER TABLE ${s}.attack_h_table ENABLE ROW LEVEL SECURITY`,
    `CREATE POLICY attack_h ON ${s}.attack_h_table USING (${s}.attack_h_definer())`,
    `CREATE RULE attack_h_rule AS ON DELETE TO ${s}.attack_h_table DO ALSO SELECT ${s}.attack_h_definer()`,
  ];
}

/** (b): what the app tries on the credentials table the toolkit already owns; each must be denied. */
export function existingTableAttempts(ctx: Ctx): string[] {
  const s = id(ctx.self.schema);
  const t = `${s}.${id(CREDENTIALS_TABLE)}`;
  const key = id(ctx.shape.key);
  return [
    `CREATE TRIGGER attack_b BEFORE INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${s}.attack_foothold()`,
    `CREATE RULE attack_b_rule AS ON DELETE TO ${t} DO ALSO SELECT 1`,
    `CREATE POLICY attack_b ON ${t} USING (true)`,
    `ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${t} ADD COLUMN attack integer DEFAULT 1`,
    `ALTER TABLE ${t} ALTER COLUMN ${key} SET DEFAULT 'x'`,
    `ALTER TABLE ${t} RENAME TO attack_renamed`,
    `ALTER TABLE ${t} OWNER TO ${id(ctx.self.app)}`,
    `CREATE INDEX attack_b_idx ON ${t} (${key})`,
    `DROP TABLE ${t}`,
    `INSERT INTO ${t} (${key}) VALUES ('attack')`,
    `UPDATE ${t} SET ${key} = ${key}`,
    `DELETE FROM ${t}`,
    `TRUNCATE ${t}`,
  ];
}

/** (g) and friends: what a non-superuser app must never be able to plant. */
export function deniedPlantings(ctx: Ctx): string[] {
  const s = id(ctx.self.schema);
  return [
    `CREATE EVENT TRIGGER attack_g_start ON ddl_command_start EXECUTE FUNCTION ${s}.attack_g_event()`,
    `CREATE EVENT TRIGGER attack_g_drop ON sql_drop EXECUTE FUNCTION ${s}.attack_g_event()`,
    `CREATE EVENT TRIGGER attack_g_login ON login EXECUTE FUNCTION ${s}.attack_g_event()`,
    `CREATE SCHEMA ${ADMIN}`,
    `CREATE SCHEMA attack_shadow`,
    `CREATE TABLE public.${CREDENTIALS_TABLE} (x integer)`,
    `CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS 'SELECT pg_catalog.now()'`,
    `CREATE TABLE ${CONTROL}.attack (x integer)`,
    `CREATE TRIGGER attack_g_cp AFTER INSERT ON ${CONTROL}.workspaces FOR EACH ROW EXECUTE FUNCTION ${s}.attack_foothold()`,
    `ALTER ROLE ${ADMIN} SET search_path = ${s}, public`,
    `ALTER DATABASE ${id(ctx.database)} SET search_path = ${s}, public`,
    `ALTER SCHEMA ${s} OWNER TO ${id(ctx.self.app)}`,
    `ALTER SCHEMA ${s} RENAME TO attack_renamed`,
    `GRANT ${id(ctx.self.owner)} TO ${id(ctx.self.app)}`,
    `SET ROLE ${id(ctx.self.owner)}`,
    `SET ROLE ${ADMIN}`,
  ];
}

export function eventFunction(ctx: Ctx): string[] {
  const s = id(ctx.self.schema);
  return [`CREATE FUNCTION ${s}.attack_g_event() RETURNS event_trigger LANGUAGE plpgsql AS ${plpgsql(payload(ctx.self, ctx.others, ctx.database, `${ctx.self.slug}:g-event`), "")}`];
}

/**
 * Undoes what planted code may have won (memberships, attributes, settings, ACLs, default
 * privileges, footholds, stolen rows, backdoor roles), as the superuser. A no-op when the
 * toolkit held; it only keeps one broken case from poisoning the next.
 */
export async function scrub(su: pg.Client, boundaries: readonly Boundary[], baselineSettings: ReadonlySet<string>, database: string): Promise<void> {
  const q = async (text: string) => { await su.query(text).catch(() => {}); };
  for (const b of boundaries) {
    const rows = await su.query<{ role: string; member: string; grantor: string }>(`
      SELECT pg_get_userbyid(roleid) AS role, pg_get_userbyid(member) AS member, pg_get_userbyid(grantor) AS grantor
      FROM pg_auth_members WHERE pg_get_userbyid(member) = ANY($1) AND (pg_get_userbyid(roleid) <> ALL ($1) OR pg_get_userbyid(member) = $2)`, [b.roles, b.app]);
    for (const r of rows.rows) {
      if (r.member === b.app && b.roles.includes(r.role) && r.role !== b.owner) continue;
      await q(`REVOKE ${id(r.role)} FROM ${id(r.member)} GRANTED BY ${id(r.grantor)} CASCADE`);
    }
    for (const r of b.roles) await q(`ALTER ROLE ${id(r)} NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS`);
    for (const v of boundaries) {
      if (v === b) continue;
      for (const r of b.roles) {
        await q(`REVOKE ALL ON SCHEMA ${id(v.schema)} FROM ${id(r)} CASCADE`);
        await q(`REVOKE ALL ON ALL TABLES IN SCHEMA ${id(v.schema)} FROM ${id(r)} CASCADE`);
        await q(`ALTER DEFAULT PRIVILEGES FOR ROLE ${id(v.owner)} IN SCHEMA ${id(v.schema)} REVOKE ALL ON TABLES FROM ${id(r)}`);
      }
    }
    await q(`REVOKE ALL ON SCHEMA ${CONTROL} FROM ${id(b.app)} CASCADE`);
    await q(`REVOKE ALL ON ALL TABLES IN SCHEMA ${CONTROL} FROM ${id(b.app)} CASCADE`);
    await q(`REVOKE CREATE ON DATABASE ${id(database)} FROM ${id(b.app)} CASCADE`);
    await q(`TRUNCATE ${id(b.schema)}.attack_loot`);
  }
  const settings = await su.query<{ role: string | null; db: string | null }>(`
    SELECT pg_get_userbyid(nullif(setrole, 0)) AS role, (SELECT datname FROM pg_database WHERE oid = setdatabase) AS db FROM pg_db_role_setting`);
  for (const s of settings.rows) {
    if (baselineSettings.has(settingKey(s.role, s.db))) continue;
    if (s.role && !s.db) await q(`ALTER ROLE ${id(s.role)} RESET ALL`);
    else if (s.role && s.db) await q(`ALTER ROLE ${id(s.role)} IN DATABASE ${id(s.db)} RESET ALL`);
    else if (s.db) await q(`ALTER DATABASE ${id(s.db)} RESET ALL`);
  }
  // Footholds: triggers outside a workspace that run a workspace's function.
  const triggers = await su.query<{ name: string; tbl: string }>(`
    SELECT t.tgname AS name, format('%I.%I', n.nspname, c.relname) AS tbl FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
    WHERE pn.nspname = ANY($1) AND n.nspname <> pn.nspname`, [boundaries.map((b) => b.schema)]);
  for (const t of triggers.rows) await q(`DROP TRIGGER ${id(t.name)} ON ${t.tbl}`);
  const backdoors = await su.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE '%\\_backdoor'");
  for (const r of backdoors.rows) {
    await q(`REASSIGN OWNED BY ${id(r.rolname)} TO CURRENT_USER`);
    await q(`DROP OWNED BY ${id(r.rolname)}`);
    await q(`DROP ROLE ${id(r.rolname)}`);
  }
}

export function settingKey(role: string | null, db: string | null): string {
  return `${role ?? "*"}|${db ?? "*"}`;
}
