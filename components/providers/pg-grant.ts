// One grant or revoke (components/grants.ts) as a Pulumi dynamic resource, so every privilege a
// workspace holds is a resource whose inputs name the role, the object and the privileges.
// Read reports which of the privileges are in effect, so refresh shows drift and up repairs it.
import * as pulumi from "@pulumi/pulumi";
import { grantProblems, type GrantAction, type GrantDescriptor, type GrantTarget } from "../grants.ts";
import { sameServer, withClient, type PgConnection, type PgConnectionInput } from "./connection.ts";
import { UNKNOWN, withLock } from "./pg-role.ts";

export interface PgGrantArgs {
  readonly action: GrantAction;
  /** Grantee role, or PUBLIC (revokes only). */
  readonly role: pulumi.Input<string>;
  readonly on: pulumi.Input<GrantTarget<pulumi.Input<string>>>;
  readonly privileges: readonly string[];
  readonly connection: PgConnectionInput;
}

interface State extends Omit<GrantDescriptor, "id"> { connection: PgConnection }
type Client = import("pg").Client;

/** `ON ...` clause and the catalog letters of a default-privilege object type. */
const DEFAULT_TYPES: Record<string, { sql: string; defacl: string; acldefault: string }> = {
  tables: { sql: "TABLES", defacl: "r", acldefault: "r" },
  sequences: { sql: "SEQUENCES", defacl: "S", acldefault: "s" },
  functions: { sql: "FUNCTIONS", defacl: "f", acldefault: "f" },
  types: { sql: "TYPES", defacl: "T", acldefault: "T" },
};

/** The GRANT or REVOKE statement; privileges were checked against the allow-list. */
function statement(c: Client, s: State, action: GrantAction, privileges: readonly string[]): string {
  const problems = grantProblems({ ...s, id: "", privileges });
  if (problems.length > 0) throw new Error(problems.join("; "));
  const grantee = s.role === "PUBLIC" ? "PUBLIC" : c.escapeIdentifier(s.role);
  const on = s.on;
  const verb = action === "grant" ? `GRANT ${privileges.join(", ")}` : `REVOKE ${privileges.join(", ")}`;
  const to = action === "grant" ? `TO ${grantee}` : `FROM ${grantee}`;
  switch (on.kind) {
    case "database": return `${verb} ON DATABASE ${c.escapeIdentifier(on.database)} ${to}`;
    case "schema": return `${verb} ON SCHEMA ${c.escapeIdentifier(on.schema)} ${to}`;
    case "all-tables-in-schema": return `${verb} ON ALL TABLES IN SCHEMA ${c.escapeIdentifier(on.schema)} ${to}`;
    case "default-privileges": {
      const inSchema = on.schema === undefined ? "" : ` IN SCHEMA ${c.escapeIdentifier(on.schema)}`;
      return `ALTER DEFAULT PRIVILEGES FOR ROLE ${c.escapeIdentifier(on.forRole)}${inSchema} ${verb} ON ${DEFAULT_TYPES[on.objectType]!.sql} ${to}`;
    }
  }
}

/** Runs the statement; a blanket table grant then takes back what it must not reach. */
async function apply(c: Client, s: State, action: GrantAction, privileges: readonly string[]): Promise<void> {
  await c.query(statement(c, s, action, privileges));
  if (action !== "grant" || s.on.kind !== "all-tables-in-schema") return;
  const grantee = s.role === "PUBLIC" ? "PUBLIC" : c.escapeIdentifier(s.role);
  for (const table of s.on.except ?? []) {
    const found = await c.query("SELECT 1 FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = $1 AND t.relname = $2", [s.on.schema, table]);
    if (found.rowCount) await c.query(`REVOKE ${privileges.join(", ")} ON ${c.escapeIdentifier(s.on.schema)}.${c.escapeIdentifier(table)} FROM ${grantee}`);
  }
}

/** The catalog row whose ACL the statement changes: concurrent changes to it take turns. */
function lockKey(on: GrantTarget): string {
  switch (on.kind) {
    case "database": return `database:${on.database}`;
    case "schema": return `schema:${on.schema}`;
    case "all-tables-in-schema": return `tables:${on.schema}`;
    case "default-privileges": return `default:${on.forRole}:${on.schema ?? ""}:${on.objectType}`;
  }
}

/**
 * Which of `privileges` the grantee holds on the target, or undefined when the target or the
 * grantee no longer exists. For all-tables-in-schema: held on every table of the schema.
 */
async function held(c: Client, s: State): Promise<Set<string> | undefined> {
  let grantee = 0; // PUBLIC's oid in aclexplode
  if (s.role !== "PUBLIC") {
    const role = await c.query("SELECT oid FROM pg_roles WHERE rolname = $1", [s.role]);
    if (!role.rowCount) return undefined;
    grantee = Number(role.rows[0].oid);
  }
  const on = s.on;
  const privs = [...s.privileges];
  let result;
  switch (on.kind) {
    case "database":
      result = await c.query(`SELECT array(SELECT a.privilege_type FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
        WHERE a.grantee = $2) AS present FROM pg_database d WHERE d.datname = $1`, [on.database, grantee]);
      break;
    case "schema":
      result = await c.query(`SELECT array(SELECT a.privilege_type FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
        WHERE a.grantee = $2) AS present FROM pg_namespace n WHERE n.nspname = $1`, [on.schema, grantee]);
      break;
    case "all-tables-in-schema":
      result = await c.query(`SELECT array(SELECT p FROM unnest($3::text[]) p WHERE NOT EXISTS (
          SELECT 1 FROM pg_class t WHERE t.relnamespace = n.oid AND t.relkind IN ('r', 'p', 'v', 'm', 'f') AND t.relname <> ALL($4::text[]) AND NOT EXISTS (
            SELECT 1 FROM aclexplode(coalesce(t.relacl, acldefault('r', t.relowner))) a WHERE a.grantee = $2 AND a.privilege_type = p))
        ) AS present FROM pg_namespace n WHERE n.nspname = $1`, [on.schema, grantee, privs, [...(on.except ?? [])]]);
      break;
    case "default-privileges": {
      const type = DEFAULT_TYPES[on.objectType]!;
      // Global defaults start from the built-in ACL; IN SCHEMA defaults only add to them.
      result = await c.query(`SELECT array(SELECT a.privilege_type FROM aclexplode(coalesce(
            (SELECT defaclacl FROM pg_default_acl WHERE defaclrole = r.oid AND defaclnamespace = coalesce(n.oid, 0) AND defaclobjtype = $3::"char"),
            CASE WHEN $1::text IS NULL THEN acldefault($4::"char", r.oid) ELSE '{}'::aclitem[] END)) a WHERE a.grantee = $5) AS present
        FROM pg_roles r LEFT JOIN pg_namespace n ON n.nspname = $1::text
        WHERE r.rolname = $2 AND ($1::text IS NULL OR n.oid IS NOT NULL)`, [on.schema ?? null, on.forRole, type.defacl, type.acldefault, grantee]);
      break;
    }
  }
  if (!result.rowCount) return undefined;
  return new Set<string>(result.rows[0].present);
}

/** The privileges of `s` in effect: held for a grant, absent for a revoke. */
async function inEffect(c: Client, s: State): Promise<string[] | undefined> {
  const present = await held(c, s);
  if (!present) return undefined;
  return s.privileges.filter((p) => (s.action === "grant" ? present.has(p) : !present.has(p)));
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((p) => b.includes(p));

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: State, news: State) {
    // Inputs not known yet are checked again when the statement is built.
    if ((news.on as unknown) === UNKNOWN) return { inputs: news, failures: [] };
    const known = (value: unknown): unknown => (value === UNKNOWN ? "unknown" : value);
    const on = Object.fromEntries(Object.entries(news.on ?? {}).map(([k, v]) => [k, k === "kind" ? v : known(v)])) as unknown as GrantTarget;
    const failures = grantProblems({ ...news, id: "", role: known(news.role) as string, on }).map((reason) => ({ property: "privileges", reason }));
    return { inputs: news, failures };
  },
  async diff(_id: string, olds: State, news: State) {
    // Everything but the privileges names the grant; `on` may still be unknown in a preview.
    const identity = (s: State) => {
      const on = (typeof s.on === "object" ? s.on : {}) as Partial<Record<string, unknown>>;
      return JSON.stringify([s.action, s.role, typeof s.on === "object" ? on.kind : s.on, on.database ?? null, on.schema ?? null, on.forRole ?? null, on.objectType ?? null]);
    };
    const replaces = identity(olds) !== identity(news) || !sameServer(olds.connection, news.connection) ? ["on"] : [];
    const except = (s: State) => JSON.stringify(typeof s.on === "object" && s.on.kind === "all-tables-in-schema" ? s.on.except ?? [] : []);
    const changes = replaces.length > 0 || !sameSet(olds.privileges, news.privileges) || except(olds) !== except(news) ||
      olds.connection.user !== news.connection.user || olds.connection.password !== news.connection.password;
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(inputs: State) {
    await withClient(inputs.connection, (c) => withLock(c, lockKey(inputs.on), () => apply(c, inputs, inputs.action, inputs.privileges)));
    return { id: `${inputs.action}:${inputs.role}:${lockKey(inputs.on)}`, outs: inputs };
  },
  async read(id: string, props: State) {
    const privileges = await withClient(props.connection, (c) => inEffect(c, props));
    // Nothing in effect is gone: refresh drops it and the next up applies it again.
    return privileges && privileges.length > 0 ? { id, props: { ...props, privileges } } : { id: "", props: {} };
  },
  async update(_id: string, olds: State, news: State) {
    await withClient(news.connection, (c) => withLock(c, lockKey(news.on), async () => {
      await apply(c, news, news.action, news.privileges);
      const dropped = olds.privileges.filter((p) => !news.privileges.includes(p));
      // A grant no longer wanted is revoked; a revoke no longer wanted is forgotten, not undone.
      if (news.action === "grant" && dropped.length > 0) await c.query(statement(c, news, "revoke", dropped));
    }));
    return { outs: news };
  },
  async delete(_id: string, props: State) {
    // Undoing a revoke would hand PUBLIC access to a schema about to be dropped; the revoked
    // defaults go with their role (DROP OWNED).
    if (props.action === "revoke") return;
    await withClient(props.connection, async (c) => {
      if ((await held(c, props)) === undefined) return; // the object or the role is already gone
      await withLock(c, lockKey(props.on), () => c.query(statement(c, props, "revoke", props.privileges)));
    });
  },
};

export class PgGrant extends pulumi.dynamic.Resource {
  declare readonly action: pulumi.Output<GrantAction>;
  declare readonly role: pulumi.Output<string>;
  declare readonly on: pulumi.Output<GrantTarget>;
  declare readonly privileges: pulumi.Output<string[]>;

  constructor(name: string, args: PgGrantArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...args, connection: pulumi.secret(args.connection) }, { ...opts, additionalSecretOutputs: ["connection"] }, "tenancy", "PgGrant");
  }
}
