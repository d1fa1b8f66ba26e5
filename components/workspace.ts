import * as pulumi from "@pulumi/pulumi";
import type { TenancyModel, Workspace as WorkspaceModel } from "../config/model.ts";
import { workspaceMembersArgs, workspaceRecordArgs } from "./control-plane/args.ts";
import { workspaceNames } from "./naming.ts";
import type { Organization } from "./organization.ts";
import type { PgConnectionInput } from "./providers/connection.ts";
import { WorkspaceMembers } from "./providers/control-plane-members.ts";
import { WorkspaceRecord } from "./providers/control-plane-workspace.ts";
import { WorkspaceDatabase } from "./workspace-database.ts";
import { WorkspaceSecrets } from "./workspace-secrets.ts";

export const WORKSPACE_TYPE = "tenancy:index:Workspace";

export interface WorkspaceArgs {
  /** The parent. A workspace exists only under an organization, never under a workspace. */
  readonly organization: Organization;
  /** The whole validated model: records need the directory and the billing mode. */
  readonly model: TenancyModel;
  /** This workspace, from `model.workspaces`. */
  readonly workspace: WorkspaceModel;
  /** Admin connection (see OrganizationArgs.postgres). */
  readonly postgres: PgConnectionInput;
  /** Credentials in AWS KMS + Secrets Manager. Default false: encrypted in PostgreSQL. */
  readonly aws?: boolean;
  /** Required when the workspace has integrations and `aws` is false (see OrganizationArgs). */
  readonly credentialsMasterKey?: pulumi.Input<string>;
}

/**
 * A workspace: a hard data boundary. Its PostgreSQL schema and roles, its integration
 * credentials, and its control-plane records (workspace, members, invitations) belong to it
 * alone. Everything in it is protected until the declaration marks it decommissioned:
 * deleting a workspace is permanent.
 */
export class Workspace extends pulumi.ComponentResource {
  public readonly slug: string;
  public readonly schema: pulumi.Output<string>;
  public readonly appRole: pulumi.Output<string>;
  /** The password the SaaS connects with as this workspace's app role (a secret). */
  public readonly appPassword: pulumi.Output<string>;
  /** Without AWS: the key the SaaS decrypts this workspace's credentials with (a secret). */
  public readonly credentialsKey: pulumi.Output<string | undefined>;

  constructor(name: string, args: WorkspaceArgs, opts?: Omit<pulumi.ComponentResourceOptions, "parent" | "protect">) {
    const ws = args.workspace;
    const protect = !ws.decommissioned;
    // The parent is not an option: it is always the organization. Children inherit `protect`.
    super(WORKSPACE_TYPE, name, {}, { ...opts, parent: args.organization, protect });
    this.slug = ws.slug;
    // Checked before any child exists, so a failure leaves nothing half-registered.
    if (ws.integrations.length > 0 && !args.aws && args.credentialsMasterKey === undefined) {
      throw new pulumi.InputPropertyError({ propertyPath: "credentialsMasterKey", reason: `workspace "${ws.slug}" has integrations and AWS is off: set the secret config value tenancy:credentialsMasterKey` });
    }
    const names = workspaceNames(args.organization.slug, ws.slug);
    const child = { parent: this, protect };

    const database = new WorkspaceDatabase(`${name}-database`, { names, connection: args.postgres, protect }, child);
    const record = new WorkspaceRecord(`${name}-record`,
      { ...workspaceRecordArgs(args.model, ws, { decommissioned: ws.decommissioned }), connection: args.postgres },
      { ...child, dependsOn: [args.organization.record] });
    new WorkspaceMembers(`${name}-members`, { ...workspaceMembersArgs(args.model, ws), connection: args.postgres },
      { ...child, dependsOn: [record, args.organization.record] });

    let credentialsKey: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (ws.integrations.length > 0) {
      const secrets = new WorkspaceSecrets(`${name}-secrets`, {
        organization: args.organization.slug,
        workspace: ws.slug,
        integrations: ws.integrations,
        aws: args.aws ?? false,
        ...(args.aws ? {} : { postgres: { connection: args.postgres, names, dependsOn: [database], masterKey: args.credentialsMasterKey! } }),
      }, child);
      credentialsKey = secrets.dataKey ?? pulumi.output(undefined);
    }

    this.schema = database.schema;
    this.appRole = database.appRole;
    this.appPassword = database.appPassword;
    this.credentialsKey = credentialsKey;
    // What the policy pack sees of a workspace: component inputs never reach the engine, its
    // registered outputs do.
    this.registerOutputs({
      slug: ws.slug,
      organization: args.organization.slug,
      decommissioned: ws.decommissioned,
      // Rollup billing records no workspace plan or pool; the policy pack must still see them.
      ...(ws.plan !== undefined ? { plan: ws.plan } : {}),
      ...(ws.creditPool ? { creditPool: { monthlyAllowance: ws.creditPool.monthlyAllowance } } : {}),
      schema: this.schema,
      appRole: this.appRole,
      members: Object.fromEntries(ws.members.map((m) => [m.key, m.role])),
      integrations: Object.fromEntries(ws.integrations.map((i) => [i.slug, { provider: i.provider, credentialsSecret: i.credentialsSecret }])),
    });
  }
}
