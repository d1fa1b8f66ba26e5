// One organization's control-plane rows: the organization (billing mode, plan, membership mode),
// its role catalogue, its people directory and, under rollup billing, its credit pool. One
// resource per organization, whatever the directory's size.
//
// A create that finds the rows already there (an interrupted apply, or rows written before the
// stack existed) adopts them by writing the declaration over them. A delete refuses while any
// workspace row of the organization remains, and then deletes nothing.
import * as pulumi from "@pulumi/pulumi";
import type { OrganizationRecordArgs } from "../control-plane/args.ts";
import { inTransaction } from "../control-plane/db.ts";
import { changedProperties } from "../control-plane/diff.ts";
import { deleteOrganization, readOrganization, writeOrganization } from "../control-plane/organization-sql.ts";
import type { PgConnection, PgConnectionInput } from "./connection.ts";

export const ORGANIZATION_RECORD_TYPE = "pulumi-nodejs:dynamic/tenancy:OrganizationRecord";

export interface OrganizationRecordResourceArgs extends OrganizationRecordArgs {
  readonly connection: PgConnectionInput;
}

type State = OrganizationRecordArgs & { connection: PgConnection };

/** Input problems the database would also refuse, reported at preview with the property at fault. */
export function organizationRecordProblems(o: OrganizationRecordArgs): { property: string; reason: string }[] {
  const problems: { property: string; reason: string }[] = [];
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(o.slug)) problems.push({ property: "slug", reason: `organization slug ${JSON.stringify(o.slug)} must match ^[a-z][a-z0-9-]{1,30}$` });
  if (o.billingMode !== "rollup" && o.billingMode !== "per-workspace") problems.push({ property: "billingMode", reason: `billing mode must be rollup or per-workspace; got ${JSON.stringify(o.billingMode)}` });
  const allowance = o.creditPool?.monthlyAllowance;
  if (allowance !== undefined && !(Number.isSafeInteger(allowance) && allowance >= 0)) problems.push({ property: "creditPool", reason: `monthlyAllowance must be a non-negative safe integer; got ${allowance}` });
  for (const [key, person] of Object.entries(o.people ?? {})) {
    if (person.orgRole !== undefined && !Object.hasOwn(o.roles ?? {}, person.orgRole)) {
      problems.push({ property: "people", reason: `orgRole "${person.orgRole}" of ${key} must be in the role catalogue` });
    }
  }
  return problems;
}

const provider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: State, news: State) {
    return { inputs: news, failures: organizationRecordProblems(news) };
  },
  async diff(_id: string, olds: State, news: State) {
    const changed = changedProperties(olds, news, ["__provider"]);
    return { changes: changed.length > 0, replaces: changed.includes("slug") ? ["slug"] : [] };
  },
  async create(inputs: State) {
    const { connection, ...record } = inputs;
    await inTransaction(connection, (sql) => writeOrganization(sql, record));
    return { id: inputs.slug, outs: inputs };
  },
  async read(id: string, props: State) {
    const found = await inTransaction(props.connection, (sql) => readOrganization(sql, id));
    return found ? { id, props: { ...found, connection: props.connection } } : { id: "", props: {} };
  },
  async update(_id: string, _olds: State, news: State) {
    const { connection, ...record } = news;
    await inTransaction(connection, (sql) => writeOrganization(sql, record));
    return { outs: news };
  },
  async delete(id: string, props: State) {
    await inTransaction(props.connection, (sql) => deleteOrganization(sql, id));
  },
};

export class OrganizationRecord extends pulumi.dynamic.Resource {
  declare readonly slug: pulumi.Output<string>;

  constructor(name: string, args: OrganizationRecordResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { ...args, connection: pulumi.secret(args.connection) }, { ...opts, additionalSecretOutputs: ["connection"] }, "tenancy", "OrganizationRecord");
  }
}
