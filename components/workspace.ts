import * as pulumi from "@pulumi/pulumi";
import type { TenancyModel, Workspace as WorkspaceModel } from "../config/model.ts";
import { DEFAULT_APP_CONNECTION_LIMIT } from "../config/schema.ts";
import { workspaceMembersArgs, workspaceRecordArgs } from "./control-plane/args.ts";
import { workspaceGrants } from "./grants.ts";
import { workspaceNames } from "./naming.ts";
import type { Organization } from "./organization.ts";
import { WorkspaceBoundary, WorkspaceCredentials, WorkspaceRecord } from "./resources.ts";
import { credentialValue, stackConfig, WorkspaceSecrets, type ConfigValues } from "./workspace-secrets.ts";

export const WORKSPACE_TYPE = "tenancy:index:Workspace";

export interface WorkspaceArgs {
  /** The parent. A workspace exists only under an organization, never under a workspace. */
  readonly organization: Organization;
  /** The whole validated model: records need the directory and the billing mode. */
  readonly model: TenancyModel;
  /** This workspace, from `model.workspaces`. */
  readonly workspace: WorkspaceModel;
  /** The database holding the workspace's schema (the admin connection's). */
  readonly database: pulumi.Input<string>;
  /** Credentials in AWS KMS + Secrets Manager. Default false: sealed in PostgreSQL. */
  readonly aws?: boolean;
  /**
   * Bump to rotate this workspace's app password and data key. Default "1". The provider derives
   * both from the stack's master key (see OrganizationArgs); neither ever reaches the program.
   */
  readonly keyGeneration?: string;
  /** The stack's config, when the caller has read it already (stackConfig). Default: read here. */
  readonly config?: ConfigValues;
}

/**
 * A workspace: a hard data boundary. Its PostgreSQL boundary (one resource: roles, schema,
 * credentials table, grants), its control-plane rows and members (one resource), and its
 * integration credentials (one resource) belong to it alone. Everything in it is protected until
 * the declaration marks it decommissioned: deleting a workspace is permanent.
 */
export class Workspace extends pulumi.ComponentResource {
  public readonly slug: string;
  public readonly schema: string;
  public readonly appRole: string;
  /** Which app password and data key the provider derived ("1" unless rotated): `tenancy credentials` needs it. */
  public readonly keyGeneration: string;
  public readonly boundary: WorkspaceBoundary;

  constructor(name: string, args: WorkspaceArgs, opts?: Omit<pulumi.ComponentResourceOptions, "parent" | "protect">) {
    const ws = args.workspace;
    const protect = !ws.decommissioned;
    // The parent is not an option: it is always the organization. Children inherit `protect`.
    super(WORKSPACE_TYPE, name, {}, { ...opts, parent: args.organization, protect });
    this.slug = ws.slug;
    const org = args.organization.slug;
    const names = workspaceNames(org, ws.slug);
    const generation = args.keyGeneration ?? "1";
    const child = { parent: this, protect, provider: args.organization.provider };
    const grants = pulumi.output(args.database).apply((db) => Object.fromEntries(workspaceGrants(names, db).map(({ id, ...g }) => [id, g])));
    // The workspace's own limit, else the organization's default, else the toolkit's.
    const connectionLimit = ws.connectionLimit ?? args.model.organization?.connectionLimit ?? DEFAULT_APP_CONNECTION_LIMIT;
    this.boundary = new WorkspaceBoundary(`${name}-boundary`, { organization: org, workspace: ws.slug, names, database: args.database, passwordGeneration: generation, connectionLimit, grants }, child);
    new WorkspaceRecord(`${name}-record`,
      { ...workspaceRecordArgs(args.model, ws, { decommissioned: ws.decommissioned }), members: workspaceMembersArgs(args.model, ws).members },
      // After the boundary: a boundary refused (a lock a workspace role holds, a crossing it cannot
      // take back) must leave no control-plane record and members behind for a workspace that has
      // no schema or roles (attack A3 in test/e2e/attack-cases-availability.ts).
      { ...child, dependsOn: [args.organization.record, this.boundary] });

    if (ws.integrations.length > 0 && args.aws) {
      new WorkspaceSecrets(`${name}-secrets`, { organization: org, workspace: ws.slug, integrations: ws.integrations, aws: true, ...(args.config ? { config: args.config } : {}) }, { parent: this, protect });
    } else if (!args.aws) {
      // Even with no integration: then removing a workspace's last integration is an update that
      // deletes its row, not the deletion of a protected resource (which the engine refuses).
      const config = args.config ?? stackConfig();
      const integrations = Object.fromEntries(ws.integrations.map((x, i) => [x.slug, { provider: x.provider, value: credentialValue(x.credentialsSecret, `integrations[${i}].credentialsSecret`, config) }]));
      const tableNames = { schema: names.schema, owner: names.owner, app: names.app };
      new WorkspaceCredentials(`${name}-credentials`, { organization: org, workspace: ws.slug, names: tableNames, keyGeneration: generation, integrations }, { ...child, dependsOn: [this.boundary] });
    }

    this.schema = names.schema;
    this.appRole = names.app;
    this.keyGeneration = generation;
    // What the policy pack sees of a workspace: component inputs never reach the engine, its
    // registered outputs do.
    this.registerOutputs({
      slug: ws.slug,
      organization: org,
      decommissioned: ws.decommissioned,
      // Rollup billing records no workspace plan or pool; the policy pack must still see them.
      ...(ws.plan !== undefined ? { plan: ws.plan } : {}),
      ...(ws.creditPool ? { creditPool: { monthlyAllowance: ws.creditPool.monthlyAllowance } } : {}),
      schema: names.schema,
      appRole: names.app,
      connectionLimit,
      members: Object.fromEntries(ws.members.map((m) => [m.key, m.role])),
      integrations: Object.fromEntries(ws.integrations.map((i) => [i.slug, { provider: i.provider, credentialsSecret: i.credentialsSecret }])),
    });
  }
}
