import * as pulumi from "@pulumi/pulumi";
import type { TenancyModel } from "../config/model.ts";
import type { PgConnectionInput } from "./providers/connection.ts";
import { Workspace } from "./workspace.ts";

export const ORGANIZATION_TYPE = "tenancy:index:Organization";

export interface OrganizationArgs {
  /** The validated model (policies/declaration.ts); invalid declarations never get here. */
  readonly model: TenancyModel;
  /** Admin connection to the PostgreSQL server that holds the workspaces' schemas. */
  readonly postgres: PgConnectionInput;
}

/** The top-level organization: the only possible parent of a Workspace. */
export class Organization extends pulumi.ComponentResource {
  public readonly slug: string;
  public readonly workspaces: readonly Workspace[];

  constructor(name: string, args: OrganizationArgs, opts?: pulumi.ComponentResourceOptions) {
    super(ORGANIZATION_TYPE, name, {}, opts);
    const org = args.model.organization;
    if (!org) throw new pulumi.InputPropertyError({ propertyPath: "model.organization", reason: "an Organization needs the declaration's organization" });
    this.slug = org.slug;
    this.workspaces = args.model.workspaces.map((ws) => new Workspace(`${name}-${ws.slug}`, { organization: this, workspace: ws, postgres: args.postgres }));
    this.registerOutputs({ slug: this.slug, workspaces: this.workspaces.map((w) => w.slug) });
  }
}
