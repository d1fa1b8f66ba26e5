// The custom resources of the tenancy provider plugin (provider/), as the program registers them.
// Thin: each passes its inputs through, marks what is secret, and names its outputs. What they do
// is in provider/resources/*.
import * as pulumi from "@pulumi/pulumi";
import type { WorkspaceNames } from "./naming.ts";
import type { GrantAction, GrantTarget } from "./grants.ts";

export const PROVIDER_PACKAGE = "tenancy";
export const WORKSPACE_BOUNDARY_TYPE = "tenancy:postgres:WorkspaceBoundary";
export const WORKSPACE_CREDENTIALS_TYPE = "tenancy:postgres:WorkspaceCredentials";
export const GRANT_TYPE = "tenancy:postgres:Grant";
export const CONTROL_PLANE_TYPE = "tenancy:control:ControlPlane";
export const ORGANIZATION_RECORD_TYPE = "tenancy:control:OrganizationRecord";
export const WORKSPACE_RECORD_TYPE = "tenancy:control:WorkspaceRecord";

/** The admin connection: CREATEROLE and ownership of its database; never SUPERUSER. */
export interface PgConnectionArgs {
  readonly host: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
  readonly user: pulumi.Input<string>;
  /** Made secret here whatever the caller passes. */
  readonly password: pulumi.Input<string>;
  readonly database: pulumi.Input<string>;
}
export type PgConnectionInput = pulumi.Input<PgConnectionArgs>;

/**
 * The tenancy provider, configured with the admin connection and the stack's master key (both
 * kept once, as secrets, in state). The provider derives every workspace's app password and data
 * key from the master key itself: pass the config secret as is, so that the engine, which masks
 * the stack's config secrets in its logs, never prints it.
 */
export class TenancyProvider extends pulumi.ProviderResource {
  constructor(name: string, connection: PgConnectionInput, credentialsMasterKey: pulumi.Input<string>, opts?: pulumi.ResourceOptions) {
    // An output of an object holding a secret is secret whole: only the password stays one.
    const c = pulumi.output(connection);
    super(PROVIDER_PACKAGE, name, {
      host: pulumi.unsecret(c.host), port: pulumi.unsecret(c.port.apply(String)), user: pulumi.unsecret(c.user),
      database: pulumi.unsecret(c.database), password: pulumi.secret(c.password), credentialsMasterKey: pulumi.secret(credentialsMasterKey),
    }, opts);
  }
}

export interface WorkspaceBoundaryArgs {
  readonly organization: string;
  readonly workspace: string;
  readonly names: WorkspaceNames;
  readonly database: pulumi.Input<string>;
  /** Which app password the provider derives (from its master key): "1", bump to rotate. Not a secret. */
  readonly passwordGeneration: string;
  /** By stable id: components/grants.ts workspaceGrants without the id. */
  readonly grants: pulumi.Input<Record<string, { action: GrantAction; role: string; on: pulumi.Input<GrantTarget<pulumi.Input<string>>>; privileges: readonly string[] }>>;
}

/** A workspace's whole PostgreSQL boundary: roles, schema, credentials table, grants. */
export class WorkspaceBoundary extends pulumi.CustomResource {
  declare readonly names: pulumi.Output<WorkspaceNames>;
  declare readonly database: pulumi.Output<string>;
  declare readonly grants: pulumi.Output<Record<string, unknown>>;
  declare readonly outsiders: pulumi.Output<string[]>;
  /** Crossing privileges the last apply could not take back (a superuser must); raw catalog text, escape before printing. */
  declare readonly notTakenBack: pulumi.Output<string[] | undefined>;
  /** Other databases the app role can still connect to (through PUBLIC on `postgres`, `template1`). */
  declare readonly otherDatabases: pulumi.Output<string[] | undefined>;

  constructor(name: string, args: WorkspaceBoundaryArgs, opts?: pulumi.CustomResourceOptions) {
    super(WORKSPACE_BOUNDARY_TYPE, name, { ...args, outsiders: undefined, notTakenBack: undefined, otherDatabases: undefined }, opts);
  }
}

export interface WorkspaceCredentialsArgs {
  readonly organization: string;
  readonly workspace: string;
  readonly names: Pick<WorkspaceNames, "schema" | "owner" | "app">;
  /** Which data key the provider derives (from its master key): "1", bump to rotate. Not a secret. */
  readonly keyGeneration: string;
  /** By integration slug; each value made secret. */
  readonly integrations: Readonly<Record<string, { readonly provider: string; readonly value: pulumi.Input<string> }>>;
}

/** The workspace's integration credentials, sealed into its own schema. */
export class WorkspaceCredentials extends pulumi.CustomResource {
  declare readonly keyId: pulumi.Output<string>;
  declare readonly sealed: pulumi.Output<Record<string, { provider: string; digest: string }>>;

  constructor(name: string, args: WorkspaceCredentialsArgs, opts?: pulumi.CustomResourceOptions) {
    const integrations = Object.fromEntries(Object.entries(args.integrations).map(([slug, i]) => [slug, { provider: i.provider, value: pulumi.secret(i.value) }]));
    super(WORKSPACE_CREDENTIALS_TYPE, name, { ...args, integrations, keyId: undefined, sealed: undefined }, opts);
  }
}

export interface GrantArgs {
  readonly action: GrantAction;
  /** Grantee role, or PUBLIC (revokes only). */
  readonly role: pulumi.Input<string>;
  readonly on: pulumi.Input<GrantTarget<pulumi.Input<string>>>;
  readonly privileges: readonly string[];
}

/** One grant or revoke written by hand (the policy pack checks it stays inside one workspace). */
export class Grant extends pulumi.CustomResource {
  declare readonly role: pulumi.Output<string>;
  declare readonly privileges: pulumi.Output<string[]>;

  constructor(name: string, args: GrantArgs, opts?: pulumi.CustomResourceOptions) {
    super(GRANT_TYPE, name, { ...args }, opts);
  }
}

/** The shared control-plane schema, migrated to this toolkit's latest version. */
export class ControlPlane extends pulumi.CustomResource {
  constructor(name: string, args: { readonly schema: string; readonly database: pulumi.Input<string>; readonly migrations: readonly unknown[] }, opts?: pulumi.CustomResourceOptions) {
    super(CONTROL_PLANE_TYPE, name, { ...args }, opts);
  }
}

/** One organization's control-plane rows. */
export class OrganizationRecord extends pulumi.CustomResource {
  declare readonly slug: pulumi.Output<string>;
  constructor(name: string, args: object, opts?: pulumi.CustomResourceOptions) {
    super(ORGANIZATION_RECORD_TYPE, name, { ...args }, opts);
  }
}

/** One workspace's control-plane rows and its authoritative member list. */
export class WorkspaceRecord extends pulumi.CustomResource {
  declare readonly members: pulumi.Output<Record<string, string>>;
  constructor(name: string, args: object, opts?: pulumi.CustomResourceOptions) {
    super(WORKSPACE_RECORD_TYPE, name, { ...args }, opts);
  }
}
