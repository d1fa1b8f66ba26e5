// The control-plane records as plain data, built from the model by pure functions (no Pulumi, no
// SQL), so tests and the components derive them the same way.
//
// Lists become objects keyed by a stable id (a person's email key, an agent or integration slug):
// reordering the YAML changes nothing, and a preview's diff names the person or slug that changed.
// Optional values are left out rather than set to undefined, because the engine drops undefined
// inputs and a record read back from the database must compare equal to its declaration.
import type { Organization, TenancyModel, Workspace } from "../../config/model.ts";
import type { BillingMode, MembershipMode } from "../../config/schema.ts";

export interface CreditPoolRecord {
  /** Credits granted each month; a non-negative safe integer. */
  readonly monthlyAllowance: number;
}

export interface PersonRecord {
  /** As declared (the map key is the comparison key). */
  readonly email: string;
  /** Absent when the declaration has none. */
  readonly name?: string;
  /** Absent when the person has no organization role. */
  readonly orgRole?: string;
}

export interface OrganizationRecordArgs {
  readonly slug: string;
  readonly name: string;
  readonly billingMode: BillingMode;
  /** rollup: the plan every workspace draws on; per-workspace: the default plan. Absent if undeclared. */
  readonly plan?: string;
  readonly membershipMode: MembershipMode;
  /** Role catalogue: role -> permissions, in declared order. */
  readonly roles: Readonly<Record<string, readonly string[]>>;
  /** The directory, keyed by email comparison key (NFKC + lower-case). */
  readonly people: Readonly<Record<string, PersonRecord>>;
  /** rollup only: the pool every workspace is attributed to. Absent under per-workspace billing. */
  readonly creditPool?: CreditPoolRecord;
}

export interface ExportProfileRecord {
  readonly letterhead: string;
  readonly accentColour: string;
  readonly contactBlock: string;
}

export interface AgentRecord {
  readonly name: string;
  /** Slug of an agent in the same workspace; absent: its own style memory. */
  readonly styleMemoryFrom?: string;
}

export interface IntegrationRecord {
  readonly provider: string;
  /** The NAME of the Pulumi secret holding the credentials; the value never reaches a record. */
  readonly credentialsSecret: string;
}

export interface WorkspaceRecordArgs {
  /** The organization's slug. Changing it replaces the record. */
  readonly organization: string;
  /** Changing it replaces the record. */
  readonly slug: string;
  readonly name: string;
  /** Kept for the SaaS to stop new work in a workspace on its way out. Default false. */
  readonly decommissioned: boolean;
  /** per-workspace billing only: this workspace's subscription (its plan, or the organization's default). */
  readonly plan?: string;
  /** per-workspace billing only: this workspace's own pool. Absent under rollup (the organization's pool). */
  readonly creditPool?: CreditPoolRecord;
  /** Absent: the SaaS default profile. */
  readonly exportProfile?: ExportProfileRecord;
  /** Keyed by agent slug. */
  readonly agents: Readonly<Record<string, AgentRecord>>;
  /** Keyed by integration slug. */
  readonly integrations: Readonly<Record<string, IntegrationRecord>>;
}

export interface WorkspaceMembersArgs {
  readonly organization: string;
  readonly workspace: string;
  /** The whole member list: email comparison key -> role. Anyone not here is removed. */
  readonly members: Readonly<Record<string, string>>;
}

export interface WorkspaceRecordOptions {
  /** Default false. */
  readonly decommissioned?: boolean;
}

function organizationOf(model: TenancyModel): Organization {
  if (!model.organization) throw new Error("the control-plane records need the declaration's organization");
  return model.organization;
}

/** Keys a list by `key`, refusing duplicates (a validated model has none; a silent last-wins would hide a bug). */
function keyed<T, V>(items: readonly T[], key: (item: T) => string, value: (item: T) => V, what: string): Record<string, V> {
  const out: Record<string, V> = {};
  for (const item of items) {
    const k = key(item);
    if (Object.hasOwn(out, k)) throw new Error(`${what} ${JSON.stringify(k)} is listed twice`);
    out[k] = value(item);
  }
  return out;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

export function organizationRecordArgs(model: TenancyModel): OrganizationRecordArgs {
  const org = organizationOf(model);
  const rollup = org.billing.mode === "rollup";
  return {
    slug: org.slug,
    name: org.name,
    billingMode: org.billing.mode,
    ...optional("plan", org.billing.plan),
    membershipMode: org.membership,
    roles: keyed(Object.entries(org.roles), ([role]) => role, ([, permissions]) => [...permissions], "role"),
    people: keyed(org.people, (p) => p.key, (p) => ({ email: p.email, ...optional("name", p.name), ...optional("orgRole", p.orgRole) }), "person"),
    ...optional("creditPool", rollup && org.billing.creditPool ? { monthlyAllowance: org.billing.creditPool.monthlyAllowance } : undefined),
  };
}

export function workspaceRecordArgs(model: TenancyModel, ws: Workspace, options: WorkspaceRecordOptions = {}): WorkspaceRecordArgs {
  const org = organizationOf(model);
  const perWorkspace = org.billing.mode === "per-workspace";
  const profile = ws.exportProfile;
  return {
    organization: org.slug,
    slug: ws.slug,
    name: ws.name,
    decommissioned: options.decommissioned ?? false,
    ...optional("plan", perWorkspace ? ws.plan ?? org.billing.plan : undefined),
    ...optional("creditPool", perWorkspace && ws.creditPool ? { monthlyAllowance: ws.creditPool.monthlyAllowance } : undefined),
    ...optional("exportProfile", profile && { letterhead: profile.letterhead, accentColour: profile.accentColour, contactBlock: profile.contactBlock }),
    agents: keyed(ws.agents, (a) => a.slug, (a) => ({ name: a.name, ...optional("styleMemoryFrom", a.styleMemoryFrom) }), `agent of workspace "${ws.slug}"`),
    integrations: keyed(ws.integrations, (i) => i.slug, (i) => ({ provider: i.provider, credentialsSecret: i.credentialsSecret }), `integration of workspace "${ws.slug}"`),
  };
}

export function workspaceMembersArgs(model: TenancyModel, ws: Workspace): WorkspaceMembersArgs {
  const org = organizationOf(model);
  return {
    organization: org.slug,
    workspace: ws.slug,
    members: keyed(ws.members, (m) => m.key, (m) => m.role, `member of workspace "${ws.slug}"`),
  };
}
