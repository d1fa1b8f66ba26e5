// The authoritative member list of one workspace: the declaration is the whole list, so anyone
// recorded and not declared is removed. One resource per workspace, keyed by email comparison key
// (email -> role), so a preview names each person who changes.
//
// What a preview shows, with @pulumi/pulumi 3.246.0: the dynamic-provider host forwards only
// `changes`, `replaces` and `deleteBeforeReplace` from `diff` (cmd/dynamic-provider/index.js), so
// the per-person `detailedDiff` returned below does not reach the engine today; it is kept so a
// host that forwards it shows the same thing. Without it the engine diffs the inputs itself, and
// the email-keyed map makes that diff per person (`pulumi preview --diff`):
//
//     ~ members: {
//         ~ ana@acme.test  : "viewer" => "admin"
//           ben@acme.test  : "editor"
//         + chloe@acme.test: "viewer"
//       }
//
// Invitations: writeMembers invites each member with no `users` row (not yet an active user of
// the SaaS) unless an invitation already exists for them in this organization+workspace, so
// re-runs and adoption never invite anyone twice; statuses are never rewritten.
import * as pulumi from "@pulumi/pulumi";
import type { WorkspaceMembersArgs } from "../control-plane/args.ts";
import { inTransaction } from "../control-plane/db.ts";
import { changedProperties, memberChanges, membersDetailedDiff, type PropertyDiff } from "../control-plane/diff.ts";
import { deleteMembers, readMembers, writeMembers } from "../control-plane/workspace-sql.ts";
import type { PgConnection, PgConnectionInput } from "./connection.ts";

export const WORKSPACE_MEMBERS_TYPE = "pulumi-nodejs:dynamic/tenancy:WorkspaceMembers";

export interface WorkspaceMembersResourceArgs extends WorkspaceMembersArgs {
  readonly connection: PgConnectionInput;
}

type State = WorkspaceMembersArgs & { connection: PgConnection };

/** `diff`'s result, with the engine's detailed diff the 3.246.0 host does not forward yet. */
export interface MembersDiffResult extends pulumi.dynamic.DiffResult {
  readonly detailedDiff: Record<string, PropertyDiff>;
}

/** The diff of two member lists: replace when the workspace's identity changes, else one entry per changed person. */
export function diffMembers(olds: State, news: State): MembersDiffResult {
  const replaces: string[] = changedProperties(olds, news, ["__provider"]).filter((p) => p === "organization" || p === "workspace");
  const people = memberChanges(olds.members ?? {}, news.members ?? {});
  const other = changedProperties(olds, news, ["__provider", "members"]);
  const detailedDiff: Record<string, PropertyDiff> = membersDetailedDiff(people);
  for (const p of other) detailedDiff[p] = { kind: replaces.includes(p) ? "update_replace" : "update", inputDiff: true };
  return { changes: people.length > 0 || other.length > 0, replaces, detailedDiff };
}

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: State, news: State) {
    const failures = Object.entries(news.members ?? {})
      .filter(([email, role]) => !email.includes("@") || email !== email.normalize("NFKC").toLowerCase() || typeof role !== "string" || role === "")
      .map(([email]) => ({ property: "members", reason: `member key ${JSON.stringify(email)} must be an email's comparison key (NFKC, lower case) mapped to a role` }));
    return { inputs: news, failures };
  },
  async diff(_id: string, olds: State, news: State) {
    return diffMembers(olds, news);
  },
  async create(inputs: State) {
    const { connection, ...list } = inputs;
    await inTransaction(connection, (sql) => writeMembers(sql, list));
    return { id: `${inputs.organization}/${inputs.workspace}`, outs: inputs };
  },
  async read(id: string, props: State) {
    const members = await inTransaction(props.connection, (sql) => readMembers(sql, props.organization, props.workspace));
    return members ? { id, props: { ...props, members } } : { id: "", props: {} };
  },
  async update(_id: string, _olds: State, news: State) {
    const { connection, ...list } = news;
    await inTransaction(connection, (sql) => writeMembers(sql, list));
    return { outs: news };
  },
  async delete(_id: string, props: State) {
    await inTransaction(props.connection, (sql) => deleteMembers(sql, props.organization, props.workspace));
  },
};

export class WorkspaceMembers extends pulumi.dynamic.Resource {
  declare readonly members: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: WorkspaceMembersResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...args, connection: pulumi.secret(args.connection) }, { ...opts, additionalSecretOutputs: ["connection"] }, "tenancy", "WorkspaceMembers");
  }
}
