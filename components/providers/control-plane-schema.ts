// The control-plane schema (CONTROL_SCHEMA) and its migrations, one resource per stack. Every
// stack sharing a database shares the schema, so applying takes a transaction-scoped advisory
// lock (concurrent stacks wait for each other) and deleting leaves the schema in place: other
// organizations' records and the SaaS's own `users` live there.
import * as pulumi from "@pulumi/pulumi";
import { inTransaction } from "../control-plane/db.ts";
import { migrationInputs, migrationOrderProblems, planMigrations, type AppliedMigration, type MigrationInput } from "../control-plane/migrations.ts";
import { CONTROL_SCHEMA } from "../naming.ts";
import type { PgConnection, PgConnectionInput } from "./connection.ts";

export const CONTROL_PLANE_SCHEMA_TYPE = "pulumi-nodejs:dynamic/tenancy:ControlPlaneSchema";

/** The advisory lock key (a bigint, as text): any value works as long as every toolkit version uses the same one. */
export const MIGRATION_LOCK = "8387236826485727232";

export interface ControlPlaneSchemaArgs {
  /** Default: every migration this toolkit knows (components/control-plane/migrations.ts). */
  readonly migrations?: readonly MigrationInput[];
  readonly connection: PgConnectionInput;
}

interface State { schema: string; migrations: MigrationInput[]; connection: PgConnection }

/** Applies what is pending and returns the recorded versions; all of it in one transaction. */
async function migrate(state: State): Promise<AppliedMigration[]> {
  return inTransaction(state.connection, async (sql) => {
    await sql.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK]);
    await sql.query(`CREATE SCHEMA IF NOT EXISTS ${sql.escapeIdentifier(state.schema)}`);
    const ledger = `${sql.escapeIdentifier(state.schema)}.schema_migrations`;
    await sql.query(`CREATE TABLE IF NOT EXISTS ${ledger} (version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = (await sql.query(`SELECT version, checksum FROM ${ledger} ORDER BY version`)).rows as AppliedMigration[];
    const plan = planMigrations(state.migrations, applied);
    if (!plan.ok) throw new Error(plan.problem);
    for (const m of plan.pending) {
      await sql.query(m.sql);
      await sql.query(`INSERT INTO ${ledger} (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, m.checksum]);
    }
    return [...applied, ...plan.pending.map((m) => ({ version: m.version, checksum: m.checksum }))];
  });
}

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: State, news: State) {
    const failures = migrationOrderProblems(news.migrations ?? []).map((reason) => ({ property: "migrations", reason }));
    return { inputs: news, failures };
  },
  async diff(_id: string, olds: State, news: State) {
    const versions = (s: State) => (s.migrations ?? []).map((m) => `${m.version}:${m.checksum}`).join(",");
    const c = (s: State) => [s.connection.host, Number(s.connection.port), s.connection.database, s.connection.user, s.connection.password].join("\n");
    // A changed target is an update, not a replace: the schema is shared, so there is nothing to
    // delete on the old side; the new side is migrated.
    return { changes: versions(olds) !== versions(news) || olds.schema !== news.schema || c(olds) !== c(news) };
  },
  async create(inputs: State) {
    await migrate(inputs);
    return { id: inputs.schema, outs: inputs };
  },
  async read(id: string, props: State) {
    const applied = await inTransaction(props.connection, async (sql) => {
      const ledger = await sql.query("SELECT to_regclass($1) AS t", [`${sql.escapeIdentifier(id)}.schema_migrations`]);
      if (ledger.rows[0]?.t === null) return undefined;
      return (await sql.query(`SELECT version, checksum FROM ${sql.escapeIdentifier(id)}.schema_migrations`)).rows as AppliedMigration[];
    });
    if (!applied) return { id: "", props: {} };
    const recorded = new Set(applied.map((a) => `${a.version}:${a.checksum}`));
    return { id, props: { ...props, migrations: props.migrations.filter((m) => recorded.has(`${m.version}:${m.checksum}`)) } };
  },
  async update(_id: string, _olds: State, news: State) {
    await migrate(news);
    return { outs: news };
  },
  async delete() {
    // Deliberately nothing: see the header.
  },
};

/** The shared control-plane schema, migrated to this toolkit's latest version. */
export class ControlPlaneSchema extends pulumi.dynamic.Resource {
  declare readonly schema: pulumi.Output<string>;

  constructor(name: string, args: ControlPlaneSchemaArgs, opts?: pulumi.CustomResourceOptions) {
    const props = { schema: CONTROL_SCHEMA, migrations: args.migrations ?? migrationInputs(), connection: pulumi.secret(args.connection) };
    super(provider, name, props, { ...opts, additionalSecretOutputs: ["connection"] }, "tenancy", "ControlPlaneSchema");
  }
}
