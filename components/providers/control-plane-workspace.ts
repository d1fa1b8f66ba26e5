// One workspace's control-plane rows: the workspace (name, decommissioned flag), its subscription
// and credit pool under per-workspace billing, its export profile, agents and integration
// metadata (the secret's NAME only). Its members are a separate resource (WorkspaceMembers) so a
// member change neither rewrites nor re-previews the rest.
//
// Moving a workspace to another organization or renaming its slug replaces the record (the new
// rows are written before the old ones are deleted; their keys differ). A create adopts rows
// already there. A delete removes the workspace and everything of it (see deleteWorkspace).
import * as pulumi from "@pulumi/pulumi";
import { HEX_COLOUR } from "../../config/formats.ts";
import type { WorkspaceRecordArgs } from "../control-plane/args.ts";
import { inTransaction } from "../control-plane/db.ts";
import { changedProperties } from "../control-plane/diff.ts";
import { deleteWorkspace, readWorkspace, writeWorkspace } from "../control-plane/workspace-sql.ts";
import type { PgConnection, PgConnectionInput } from "./connection.ts";

export const WORKSPACE_RECORD_TYPE = "pulumi-nodejs:dynamic/tenancy:WorkspaceRecord";

export interface WorkspaceRecordResourceArgs extends WorkspaceRecordArgs {
  readonly connection: PgConnectionInput;
}

type State = WorkspaceRecordArgs & { connection: PgConnection };

/** Input problems the database would also refuse, reported at preview with the property at fault. */
export function workspaceRecordProblems(w: WorkspaceRecordArgs): { property: string; reason: string }[] {
  const problems: { property: string; reason: string }[] = [];
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(w.slug)) problems.push({ property: "slug", reason: `workspace slug ${JSON.stringify(w.slug)} must match ^[a-z][a-z0-9-]{0,39}$` });
  const allowance = w.creditPool?.monthlyAllowance;
  if (allowance !== undefined && !(Number.isSafeInteger(allowance) && allowance >= 0)) problems.push({ property: "creditPool", reason: `monthlyAllowance must be a non-negative safe integer; got ${allowance}` });
  if (w.exportProfile && !HEX_COLOUR.test(w.exportProfile.accentColour)) problems.push({ property: "exportProfile", reason: `accentColour must be #RRGGBB; got ${JSON.stringify(w.exportProfile.accentColour)}` });
  for (const [slug, agent] of Object.entries(w.agents ?? {})) {
    if (agent.styleMemoryFrom !== undefined && !Object.hasOwn(w.agents, agent.styleMemoryFrom)) {
      problems.push({ property: "agents", reason: `agent "${slug}" takes style memory from "${agent.styleMemoryFrom}", which is not an agent of workspace "${w.slug}"` });
    }
  }
  return problems;
}

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: State, news: State) {
    return { inputs: news, failures: workspaceRecordProblems(news) };
  },
  async diff(_id: string, olds: State, news: State) {
    const changed = changedProperties(olds, news, ["__provider"]);
    return { changes: changed.length > 0, replaces: changed.filter((p) => p === "organization" || p === "slug") };
  },
  async create(inputs: State) {
    const { connection, ...record } = inputs;
    await inTransaction(connection, (sql) => writeWorkspace(sql, record));
    return { id: `${inputs.organization}/${inputs.slug}`, outs: inputs };
  },
  async read(id: string, props: State) {
    const found = await inTransaction(props.connection, (sql) => readWorkspace(sql, props.organization, props.slug));
    return found ? { id, props: { ...found, connection: props.connection } } : { id: "", props: {} };
  },
  async update(_id: string, _olds: State, news: State) {
    const { connection, ...record } = news;
    await inTransaction(connection, (sql) => writeWorkspace(sql, record));
    return { outs: news };
  },
  async delete(_id: string, props: State) {
    await inTransaction(props.connection, (sql) => deleteWorkspace(sql, props.organization, props.slug));
  },
};

export class WorkspaceRecord extends pulumi.dynamic.Resource {
  declare readonly organization: pulumi.Output<string>;
  declare readonly slug: pulumi.Output<string>;

  constructor(name: string, args: WorkspaceRecordResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...args, connection: pulumi.secret(args.connection) }, { ...opts, additionalSecretOutputs: ["connection"] }, "tenancy", "WorkspaceRecord");
  }
}
