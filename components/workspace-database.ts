import * as pulumi from "@pulumi/pulumi";
import { workspaceGrants } from "./grants.ts";
import { identifierProblem, type WorkspaceNames } from "./naming.ts";
import type { PgConnectionInput } from "./providers/connection.ts";
import { PgGrant } from "./providers/pg-grant.ts";
import { PgRole } from "./providers/pg-role.ts";
import { PgSchema } from "./providers/pg-schema.ts";
import { RandomPassword } from "./providers/random-password.ts";

export const WORKSPACE_DATABASE_TYPE = "tenancy:index:WorkspaceDatabase";

export interface WorkspaceDatabaseArgs {
  /** The workspace's PostgreSQL names (components/naming.ts); nothing else is ever named. */
  readonly names: WorkspaceNames;
  /**
   * Admin connection. Needs CREATEROLE, and on `database` ownership (or CONNECT WITH GRANT OPTION
   * and CREATE); SUPERUSER is not needed. PostgreSQL 16 or newer.
   */
  readonly connection: PgConnectionInput;
  /** Database that holds the workspace's schema. Default: the connection's database. */
  readonly database?: pulumi.Input<string>;
  /** Protects every child: a workspace is deleted only after it is decommissioned. */
  readonly protect: boolean;
  /** Length of the app role's generated password. Default 32. */
  readonly passwordLength?: number;
}

/**
 * One workspace's boundary in PostgreSQL: a schema owned by a NOLOGIN owner role, a LOGIN app
 * role that may use and create in it (and owns what it creates), a NOLOGIN read-only role that
 * may read every table in it, now and later, and nothing for anyone else (components/grants.ts).
 */
export class WorkspaceDatabase extends pulumi.ComponentResource {
  public readonly schema: pulumi.Output<string>;
  public readonly ownerRole: pulumi.Output<string>;
  public readonly appRole: pulumi.Output<string>;
  public readonly readonlyRole: pulumi.Output<string>;
  /** The app role's password; a secret. */
  public readonly appPassword: pulumi.Output<string>;
  public readonly database: pulumi.Output<string>;
  /** Every grant and revoke, keyed by its stable id. */
  public readonly grants: Readonly<Record<string, PgGrant>>;

  constructor(name: string, args: WorkspaceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super(WORKSPACE_DATABASE_TYPE, name, {}, opts);
    for (const [key, value] of Object.entries(args.names)) {
      const reason = identifierProblem(value);
      if (reason) throw new pulumi.InputPropertyError({ propertyPath: `names.${key}`, reason });
    }
    const { names, protect } = args;
    const admin = pulumi.output(args.connection);
    // A database name is no secret, but reading it off the connection (secret password) makes it one.
    const database = args.database === undefined ? pulumi.unsecret(admin.database) : pulumi.output(args.database);
    // Everything happens in the workspace's database: schemas, table grants and default
    // privileges are per database, and REASSIGN/DROP OWNED act on the current one only.
    const connection = pulumi.secret(pulumi.all([admin, database]).apply(([c, db]) => ({ ...c, database: db })));
    const child = { parent: this, protect };

    const owner = new PgRole(`${name}-owner`, { name: names.owner, login: false, connection }, child);
    const schema = new PgSchema(`${name}-schema`, { name: names.schema, owner: owner.name, cascade: true, connection }, child);
    // The app and readonly roles come after the schema, so destroy drops them first: what the app
    // created passes to the owner (REASSIGN OWNED), then DROP SCHEMA ... CASCADE removes it.
    const password = new RandomPassword(`${name}-app-password`, { length: args.passwordLength ?? 32 }, child);
    const app = new PgRole(`${name}-app`, { name: names.app, login: true, password: password.result, reassignOwnedTo: owner.name, connection }, { ...child, dependsOn: [schema] });
    const readonly = new PgRole(`${name}-readonly`, { name: names.readonly, login: false, reassignOwnedTo: owner.name, connection }, { ...child, dependsOn: [schema] });

    const grants: Record<string, PgGrant> = {};
    for (const g of workspaceGrants(names, database)) {
      grants[g.id] = new PgGrant(`${name}-${g.id}`, { action: g.action, role: g.role, on: g.on, privileges: g.privileges, connection }, { ...child, dependsOn: [owner, app, readonly, schema] });
    }

    this.schema = schema.name;
    this.ownerRole = owner.name;
    this.appRole = app.name;
    this.readonlyRole = readonly.name;
    this.appPassword = pulumi.secret(password.result);
    this.database = database;
    this.grants = grants;
    this.registerOutputs({ schema: this.schema, ownerRole: this.ownerRole, appRole: this.appRole, readonlyRole: this.readonlyRole, appPassword: this.appPassword, database });
  }
}
