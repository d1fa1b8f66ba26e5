// The stack program with its per-workspace registrations varied, for bench/registrations.bench.ts.
// `full` is the real program (components/Organization, as index.ts builds it). Every other variant
// builds the same organization-level resources and, per workspace, the real resources with the
// real inputs (components/workspace.ts), with one thing left out or moved:
//   no-component    boundary, record and credentials parented to the organization (no Workspace)
//   flat-aliased    the same, each with an alias to its URN under the Workspace: on a stack the
//                   real program applied (its Workspace components unprotected) it must plan only
//                   the deletion of the components, from the state; the custom resources keep theirs
//   no-outputs      the Workspace component without registerOutputs (what the policy pack reads)
//   no-record       without WorkspaceRecord
//   no-credentials  without WorkspaceCredentials
//   no-boundary     without WorkspaceBoundary (credentials then depend on nothing)
import * as pulumi from "@pulumi/pulumi";
import type { TenancyModel, Workspace as WorkspaceModel } from "../../config/model.ts";
import { organizationRecordArgs, workspaceMembersArgs, workspaceRecordArgs } from "../../components/control-plane/args.ts";
import { migrationInputs } from "../../components/control-plane/migrations.ts";
import { workspaceGrants } from "../../components/grants.ts";
import { CONTROL_SCHEMA, workspaceNames } from "../../components/naming.ts";
import { Organization, ORGANIZATION_TYPE } from "../../components/organization.ts";
import { ControlPlane, OrganizationRecord, TenancyProvider, WorkspaceBoundary, WorkspaceCredentials, WorkspaceRecord } from "../../components/resources.ts";
import { WORKSPACE_TYPE } from "../../components/workspace.ts";
import { credentialValue } from "../../components/workspace-secrets.ts";
import { checkDeclarationFile } from "../../policies/declaration.ts";

export const VARIANTS = ["full", "no-component", "flat-aliased", "no-outputs", "no-record", "no-credentials", "no-boundary"] as const;
export type Variant = (typeof VARIANTS)[number];

const variant = (process.env.TENANCY_BENCH_VARIANT ?? "full") as Variant;
if (!VARIANTS.includes(variant)) throw new Error(`bench: unknown TENANCY_BENCH_VARIANT ${JSON.stringify(variant)}`);

const config = new pulumi.Config("tenancy");
const report = await checkDeclarationFile(config.require("declaration"));
if (!report.model) throw new pulumi.RunError("bench: the declaration must be valid");
const model = report.model;
const pg = new pulumi.Config("postgres");
const postgres = {
  host: pg.get("host") ?? "127.0.0.1", port: pg.getNumber("port") ?? 5432, user: pg.get("user") ?? "postgres",
  password: pg.requireSecret("password"), database: pg.get("database") ?? "postgres",
};
const masterKey = config.requireSecret("credentialsMasterKey");


/** components/organization.ts without its checks, its workspaces built by `workspace` below. */
class BenchOrganization extends pulumi.ComponentResource {
  constructor(name: string, model: TenancyModel) {
    super(ORGANIZATION_TYPE, name, {}, {});
    const org = model.organization!;
    const provider = new TenancyProvider(`${name}-provider`, postgres, masterKey, { parent: this });
    const resource = { parent: this, provider };
    const database = pulumi.unsecret(pulumi.output(postgres).database);
    const controlPlane = new ControlPlane(`${name}-control-plane`, { schema: CONTROL_SCHEMA, database, migrations: migrationInputs() }, resource);
    const record = new OrganizationRecord(`${name}-record`, organizationRecordArgs(model), { ...resource, dependsOn: [controlPlane] });
    for (const ws of model.workspaces) workspace(`${name}-${ws.slug}`, this, provider, record, ws, database);
    this.registerOutputs({ slug: org.slug, billingMode: org.billing.mode, membership: org.membership, workspaces: model.workspaces.map((w) => w.slug).sort() });
  }
}

/** The Workspace component, its outputs registered from outside. */
class BenchWorkspace extends pulumi.ComponentResource {
  constructor(name: string, opts: pulumi.ComponentResourceOptions) { super(WORKSPACE_TYPE, name, {}, opts); }
  outputs(values: pulumi.Inputs): void { this.registerOutputs(values); }
}

/** components/workspace.ts (local credentials, no AWS), varied. */
function workspace(name: string, organization: pulumi.ComponentResource, provider: TenancyProvider, orgRecord: OrganizationRecord, ws: WorkspaceModel, database: pulumi.Output<string>): void {
  const protect = !ws.decommissioned;
  const flat = variant === "no-component" || variant === "flat-aliased";
  const component = flat ? undefined : new BenchWorkspace(name, { parent: organization, protect });
  // The URN each child had under the Workspace component: the parent alias points there.
  const oldParent = flat && variant === "flat-aliased" ? pulumi.createUrn(name, WORKSPACE_TYPE, organization) : undefined;
  const child = (): pulumi.CustomResourceOptions => ({
    parent: component ?? organization, protect, provider, ...(oldParent ? { aliases: [{ parent: oldParent }] } : {}),
  });
  const org = model.organization!.slug;
  const names = workspaceNames(org, ws.slug);
  const generation = "1";
  let boundary: WorkspaceBoundary | undefined;
  if (variant !== "no-boundary") {
    const grants = database.apply((db) => Object.fromEntries(workspaceGrants(names, db).map(({ id, ...g }) => [id, g])));
    boundary = new WorkspaceBoundary(`${name}-boundary`, { organization: org, workspace: ws.slug, names, database, passwordGeneration: generation, grants }, child());
  }
  if (variant !== "no-record") {
    new WorkspaceRecord(`${name}-record`,
      { ...workspaceRecordArgs(model, ws, { decommissioned: ws.decommissioned }), members: workspaceMembersArgs(model, ws).members },
      { ...child(), dependsOn: [orgRecord] });
  }
  if (variant !== "no-credentials") {
    const integrations = Object.fromEntries(ws.integrations.map((x, i) => [x.slug, { provider: x.provider, value: credentialValue(x.credentialsSecret, `integrations[${i}].credentialsSecret`) }]));
    new WorkspaceCredentials(`${name}-credentials`,
      { organization: org, workspace: ws.slug, names: { schema: names.schema, owner: names.owner, app: names.app }, keyGeneration: generation, integrations },
      { ...child(), ...(boundary ? { dependsOn: [boundary] } : {}) });
  }
  if (component && variant !== "no-outputs") {
    component.outputs({
      slug: ws.slug, organization: org, decommissioned: ws.decommissioned,
      ...(ws.plan !== undefined ? { plan: ws.plan } : {}),
      ...(ws.creditPool ? { creditPool: { monthlyAllowance: ws.creditPool.monthlyAllowance } } : {}),
      schema: names.schema, appRole: names.app,
      members: Object.fromEntries(ws.members.map((m) => [m.key, m.role])),
      integrations: Object.fromEntries(ws.integrations.map((i) => [i.slug, { provider: i.provider, credentialsSecret: i.credentialsSecret }])),
    });
  } else if (component) {
    component.outputs({});
  }
}

if (variant === "full") {
  new Organization(model.organization!.slug, { model, postgres, credentialsMasterKey: masterKey });
} else {
  new BenchOrganization(model.organization!.slug, model);
}
