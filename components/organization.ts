import * as pulumi from "@pulumi/pulumi";
import type { TenancyModel } from "../config/model.ts";
import { organizationRecordArgs } from "./control-plane/args.ts";
import type { PgConnectionInput } from "./providers/connection.ts";
import { ControlPlaneSchema } from "./providers/control-plane-schema.ts";
import { OrganizationRecord } from "./providers/control-plane-organization.ts";
import { Workspace } from "./workspace.ts";
import { credentialValue } from "./workspace-secrets.ts";

export const ORGANIZATION_TYPE = "tenancy:index:Organization";

export interface OrganizationArgs {
  /** The validated model (policies/declaration.ts); invalid declarations never get here. */
  readonly model: TenancyModel;
  /**
   * Admin connection to the PostgreSQL server holding the workspaces and the control plane.
   * Needs CREATEROLE and ownership of (or CREATE on) its database; never SUPERUSER.
   */
  readonly postgres: PgConnectionInput;
  /** Keep integration credentials in AWS KMS + Secrets Manager. Default false: in PostgreSQL. */
  readonly aws?: boolean;
  /**
   * The stack's credentials master key (32 bytes, base64, a secret), from which each workspace's
   * data key is derived. Required when a workspace has integrations and `aws` is false.
   */
  readonly credentialsMasterKey?: pulumi.Input<string>;
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

  constructor(name: string, args: OrganizationArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ORGANIZATION_TYPE, name, {}, opts);
    const org = args.model.organization;
    if (!org) throw new pulumi.InputPropertyError({ propertyPath: "model.organization", reason: "an Organization needs the declaration's organization" });
    this.slug = org.slug;
    // Everything a workspace needs from config is checked before the first resource is
    // registered: a program that fails halfway would leave the engine a half-built tenancy.
    const sealed = args.model.workspaces.filter((ws) => ws.integrations.length > 0);
    if (!args.aws && sealed.length > 0 && args.credentialsMasterKey === undefined) {
      throw new pulumi.InputPropertyError({ propertyPath: "credentialsMasterKey", reason: `workspaces ${sealed.map((ws) => JSON.stringify(ws.slug)).join(", ")} have integrations and AWS is off: set the secret config value tenancy:credentialsMasterKey` });
    }
    for (const [w, ws] of args.model.workspaces.entries()) {
      for (const [i, integration] of ws.integrations.entries()) credentialValue(integration.credentialsSecret, `model.workspaces[${w}].integrations[${i}].credentialsSecret`);
    }

    const controlPlane = new ControlPlaneSchema(`${name}-control-plane`, { connection: args.postgres }, { parent: this });
    this.record = new OrganizationRecord(`${name}-record`, { ...organizationRecordArgs(args.model), connection: args.postgres }, { parent: this, dependsOn: [controlPlane] });
    this.workspaces = args.model.workspaces.map((ws) => new Workspace(`${name}-${ws.slug}`, {
      organization: this,
      model: args.model,
      workspace: ws,
      postgres: args.postgres,
      aws: args.aws ?? false,
      ...(args.credentialsMasterKey !== undefined ? { credentialsMasterKey: args.credentialsMasterKey } : {}),
    }));

    this.registerOutputs({
      slug: this.slug,
      billingMode: org.billing.mode,
      membership: org.membership,
      workspaces: this.workspaces.map((w) => w.slug).sort(),
    });
  }
}
