// A PostgreSQL schema as a Pulumi dynamic resource. A create that finds the schema already
// there adopts it, so an interrupted apply can simply be run again.
import * as pulumi from "@pulumi/pulumi";
import { withClient, sameTarget, type PgConnection, type PgConnectionInput } from "./connection.ts";

export interface PgSchemaArgs {
  /** Schema name; validated as an identifier by the caller (components/naming.ts). */
  readonly name: pulumi.Input<string>;
  readonly connection: PgConnectionInput;
}

interface State { name: string; connection: PgConnection }

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: State, news: State) {
    const failures = /^[a-z_][a-z0-9_]{0,62}$/.test(news.name) ? [] : [{ property: "name", reason: `invalid schema name ${JSON.stringify(news.name)}` }];
    return { inputs: news, failures };
  },
  async diff(_id: string, olds: State, news: State) {
    const replaces = olds.name !== news.name || !sameTarget(olds.connection, news.connection) ? ["name"] : [];
    const changes = replaces.length > 0 || olds.connection.password !== news.connection.password;
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(inputs: State) {
    await withClient(inputs.connection, (c) => c.query(`CREATE SCHEMA IF NOT EXISTS ${c.escapeIdentifier(inputs.name)}`));
    return { id: inputs.name, outs: inputs };
  },
  async read(id: string, props: State) {
    const found = await withClient(props.connection, (c) => c.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [id]));
    return found.rowCount ? { id, props } : { id: "", props: {} };
  },
  async update(_id: string, _olds: State, news: State) {
    return { outs: news };
  },
  async delete(id: string, props: State) {
    // RESTRICT: a schema that still holds objects is refused rather than silently emptied.
    await withClient(props.connection, (c) => c.query(`DROP SCHEMA IF EXISTS ${c.escapeIdentifier(id)} RESTRICT`));
  },
};

export class PgSchema extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;

  constructor(name: string, args: PgSchemaArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...args, connection: pulumi.secret(args.connection) }, opts, "tenancy", "PgSchema");
  }
}
