import * as pulumi from "@pulumi/pulumi";
import type { Workspace as WorkspaceModel } from "../config/model.ts";
import { schemaName } from "./naming.ts";
import type { Organization } from "./organization.ts";
import type { PgConnectionInput } from "./providers/connection.ts";
import { PgSchema } from "./providers/pg-schema.ts";

export const WORKSPACE_TYPE = "tenancy:index:Workspace";

export interface WorkspaceArgs {
  /** The parent. A workspace exists only under an organization, never under a workspace. */
  readonly organization: Organization;
  readonly workspace: WorkspaceModel;
  readonly postgres: PgConnectionInput;
}

/** A workspace: a hard data boundary, today its own PostgreSQL schema. */
export class Workspace extends pulumi.ComponentResource {
  public readonly slug: string;
  public readonly schema: pulumi.Output<string>;

  constructor(name: string, args: WorkspaceArgs, opts?: Omit<pulumi.ComponentResourceOptions, "parent">) {
    // The parent is not an option: it is always the organization.
    super(WORKSPACE_TYPE, name, {}, { ...opts, parent: args.organization });
    this.slug = args.workspace.slug;
    const schema = new PgSchema(`${name}-schema`, { name: schemaName(args.organization.slug, this.slug), connection: args.postgres }, { parent: this });
    this.schema = schema.name;
    this.registerOutputs({ slug: this.slug, schema: this.schema });
  }
}
