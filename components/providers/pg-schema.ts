// A PostgreSQL schema as a Pulumi dynamic resource. A create that finds the schema already
// there adopts it (and gives it to `owner`), so an interrupted apply can simply be run again.
import * as pulumi from "@pulumi/pulumi";
import { PG_IDENTIFIER } from "../naming.ts";
import { sameServer, withClient, type PgConnection, type PgConnectionInput } from "./connection.ts";
import { UNKNOWN } from "./pg-role.ts";

export interface PgSchemaArgs {
  /** Schema name; validated as an identifier by the caller (components/naming.ts). */
  readonly name: pulumi.Input<string>;
  /**
   * The owning role. Default: none, the schema belongs to whoever the admin connection is. The
   * admin must be able to SET ROLE to it (PgRole arranges that for roles it creates).
   */
  readonly owner?: pulumi.Input<string>;
  /**
   * On delete, DROP SCHEMA ... CASCADE (drops every object in it, whoever owns them). Default
   * false: RESTRICT, a schema that still holds objects is refused.
   */
  readonly cascade?: pulumi.Input<boolean>;
  readonly connection: PgConnectionInput;
}

interface State { name: string; owner?: string; cascade?: boolean; connection: PgConnection }


const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: State, news: State) {
    const failures = PG_IDENTIFIER.test(news.name) ? [] : [{ property: "name", reason: `invalid schema name ${JSON.stringify(news.name)}` }];
    if (news.owner !== undefined && news.owner !== UNKNOWN && !PG_IDENTIFIER.test(news.owner)) failures.push({ property: "owner", reason: `invalid role name ${JSON.stringify(news.owner)}` });
    return { inputs: news, failures };
  },
  async diff(_id: string, olds: State, news: State) {
    // Another admin user is the same schema: replacing it would drop it (CASCADE: with its data).
    const replaces = olds.name !== news.name || !sameServer(olds.connection, news.connection) ? ["name"] : [];
    const changes = replaces.length > 0 || olds.connection.user !== news.connection.user || olds.connection.password !== news.connection.password ||
      olds.owner !== news.owner || Boolean(olds.cascade) !== Boolean(news.cascade);
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(inputs: State) {
    await withClient(inputs.connection, async (c) => {
      const schema = c.escapeIdentifier(inputs.name);
      if (inputs.owner === undefined) {
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        return;
      }
      const owner = c.escapeIdentifier(inputs.owner);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${owner}`);
      await c.query(`ALTER SCHEMA ${schema} OWNER TO ${owner}`); // an adopted schema changes hands
    });
    return { id: inputs.name, outs: inputs };
  },
  async read(id: string, props: State) {
    const found = await withClient(props.connection, (c) => c.query("SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = $1", [id]));
    if (!found.rowCount) return { id: "", props: {} };
    return { id, props: props.owner === undefined ? props : { ...props, owner: found.rows[0].owner as string } };
  },
  async update(_id: string, olds: State, news: State) {
    if (news.owner !== undefined && news.owner !== olds.owner) {
      await withClient(news.connection, (c) => c.query(`ALTER SCHEMA ${c.escapeIdentifier(news.name)} OWNER TO ${c.escapeIdentifier(news.owner!)}`));
    }
    return { outs: news };
  },
  async delete(id: string, props: State) {
    const mode = props.cascade ? "CASCADE" : "RESTRICT";
    await withClient(props.connection, (c) => c.query(`DROP SCHEMA IF EXISTS ${c.escapeIdentifier(id)} ${mode}`));
  },
};

export class PgSchema extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly owner: pulumi.Output<string | undefined>;

  constructor(name: string, args: PgSchemaArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { owner: undefined, ...args, connection: pulumi.secret(args.connection) }, opts, "tenancy", "PgSchema");
  }
}
