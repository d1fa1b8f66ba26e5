import * as pulumi from "@pulumi/pulumi";
import type { TenancyModel } from "../config/model.ts";
import { organizationRecordArgs } from "./control-plane/args.ts";
import { migrationInputs } from "./control-plane/migrations.ts";
import { CONTROL_SCHEMA } from "./naming.ts";
import { ControlPlane, OrganizationRecord, TenancyProvider, type PgConnectionInput } from "./resources.ts";
import { Workspace } from "./workspace.ts";
import { credentialValue, stackConfig } from "./workspace-secrets.ts";

export const ORGANIZATION_TYPE = "tenancy:index:Organization";

export interface OrganizationArgs {
  /** The validated model (policies/declaration.ts); invalid declarations never get here. */
  readonly model: TenancyModel;
  /**
   * Admin connection to the PostgreSQL server holding the workspaces and the control plane.
   * Needs CREATEROLE and ownership of its database; never SUPERUSER (see README, "The admin role").
   */
  readonly postgres: PgConnectionInput;
  /** Keep integration credentials in AWS KMS + Secrets Manager. Default false: in PostgreSQL. */
  readonly aws?: boolean;
  /**
   * The stack's master key (32 bytes, base64, a secret config value `tenancy:credentialsMasterKey`).
   * The provider derives each workspace's app-role password and credentials data key from it,
   * in its own process; pass the config secret itself (`config.requireSecret`), which the
   * engine masks in its logs. Get a workspace's derived secrets with `tenancy credentials`. Required.
   */
  readonly credentialsMasterKey: pulumi.Input<string>;
}

/**
 * The top-level organization: its control-plane record and directory, and its workspaces —
 * the only place a Workspace can be created. Its record refuses to be deleted while any
 * workspace of it remains.
 */
export class Organization extends pulumi.ComponentResource {
  public readonly slug: string;
  public readonly workspaces: readonly Workspace[];
  /** The organization's control-plane record; workspaces' records depend on it. */
  public readonly record: OrganizationRecord;
  /** The tenancy provider every resource of the organization goes through. */
  public readonly provider: TenancyProvider;

  constructor(name: string, args: OrganizationArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ORGANIZATION_TYPE, name, {}, opts);
    const org = args.model.organization;
    if (!org) throw new pulumi.InputPropertyError({ propertyPath: "model.organization", reason: "an Organization needs the declaration's organization" });
    this.slug = org.slug;
    // Everything a workspace needs from config is checked before the first resource is
    // registered: a program that fails halfway would leave the engine a half-built tenancy.
    if (args.credentialsMasterKey === undefined) {
      throw new pulumi.InputPropertyError({ propertyPath: "credentialsMasterKey", reason: "set the secret config value tenancy:credentialsMasterKey (32 random bytes, base64): app-role passwords and credential keys are derived from it" });
    }
    const config = stackConfig();
    for (const [w, ws] of args.model.workspaces.entries()) {
      for (const [i, integration] of ws.integrations.entries()) credentialValue(integration.credentialsSecret, `model.workspaces[${w}].integrations[${i}].credentialsSecret`, config);
    }

    this.provider = new TenancyProvider(`${name}-provider`, args.postgres, args.credentialsMasterKey, { parent: this });
    const resource = { parent: this, provider: this.provider };
    const database = pulumi.unsecret(pulumi.output(args.postgres).database);
    const controlPlane = new ControlPlane(`${name}-control-plane`, { schema: CONTROL_SCHEMA, database, migrations: migrationInputs() }, resource);
    this.record = new OrganizationRecord(`${name}-record`, organizationRecordArgs(args.model), { ...resource, dependsOn: [controlPlane] });
    this.workspaces = args.model.workspaces.map((ws) => new Workspace(`${name}-${ws.slug}`, {
      organization: this,
      model: args.model,
      workspace: ws,
      database,
      aws: args.aws ?? false,
      config,
    }));

    this.registerOutputs({
      slug: this.slug,
      billingMode: org.billing.mode,
      membership: org.membership,
      workspaces: this.workspaces.map((w) => w.slug).sort(),
    });
  }
}
