// Rebuilds the TenancyModel from the resources the analyzer receives, so the stack policies run
// the very rules `tenancy validate` runs (policies/rules), and maps each violation's model path
// back to a resource URN.
//
// What the analyzer sees (measured with the real engine, @pulumi/pulumi 3.246.0): a component's
// constructor inputs never reach it (components register `{}`); its registered outputs do, in
// validateStack. Custom resources arrive with their inputs (outputs after apply). So:
// - the organization comes from its OrganizationRecord's inputs (the whole directory, roles,
//   billing and membership modes), falling back to the Organization component's outputs;
// - each workspace from its Workspace component's outputs (slug, decommissioned, members,
//   integrations) completed by its WorkspaceRecord child (name, plan, pool, export profile,
//   agents, and the member list that is applied).
// Tree position comes from `parent`: a Workspace under a Workspace sets `nested` on its parent,
// a Workspace under no Organization goes into a model without organization, so the rules
// `no-nested-workspaces` and `workspace-requires-organization` see what the YAML could show.
import { emailKey } from "../config/formats.ts";
import type { Member, Organization, Person, TenancyModel, Workspace } from "../config/model.ts";
import type { BillingMode, MembershipMode } from "../config/schema.ts";
import type { Violation } from "./rules/index.ts";
import { Token } from "./tokens.ts";
import { known, propsOf, record, str, type ResourceView } from "./view.ts";

/** Modes assumed when neither the record nor the component says (the pack's config). */
export interface ModeDefaults {
  readonly billingMode: BillingMode;
  readonly membershipMode: MembershipMode;
}

export const DEFAULT_MODES: ModeDefaults = { billingMode: "rollup", membershipMode: "multi-workspace" };

/** One organization's model (or the workspaces with none) and the resources behind it. */
export interface RebuiltModel {
  readonly model: TenancyModel;
  /** The Organization component; absent for workspaces outside any organization. */
  readonly organization?: ResourceView;
  /** Workspace component per `model.workspaces` index. */
  readonly workspaces: readonly ResourceView[];
  /** Workspaces found under workspace i. */
  readonly nested: ReadonlyMap<number, readonly ResourceView[]>;
}

function childrenByParent(resources: readonly ResourceView[]): Map<string, ResourceView[]> {
  const children = new Map<string, ResourceView[]>();
  for (const r of resources) {
    const parent = r.parent?.urn ?? r.opts?.parent;
    if (!parent) continue;
    const list = children.get(parent);
    if (list) list.push(r);
    else children.set(parent, [r]);
  }
  return children;
}

function organizationOf(component: ResourceView, rec: ResourceView | undefined, defaults: ModeDefaults): Organization {
  const out = propsOf(component);
  const p = rec ? propsOf(rec) : {};
  const billing = {
    mode: (str(p.billingMode) ?? str(out.billingMode) ?? defaults.billingMode) as BillingMode,
    ...(str(p.plan) !== undefined ? { plan: str(p.plan)! } : {}),
    ...(record(p.creditPool) ? { creditPool: { monthlyAllowance: Number(record(p.creditPool)!.monthlyAllowance) } } : {}),
  };
  const roles: Record<string, string[]> = {};
  for (const [role, permissions] of Object.entries(record(p.roles) ?? {})) roles[role] = Array.isArray(permissions) ? permissions.map(String) : [];
  const people: Person[] = Object.entries(record(p.people) ?? {}).map(([key, value]) => {
    const person = record(value) ?? {};
    const email = str(person.email) ?? key;
    return { email, key: emailKey(email), ...(str(person.name) !== undefined ? { name: str(person.name)! } : {}), ...(str(person.orgRole) !== undefined ? { orgRole: str(person.orgRole)! } : {}) };
  });
  return {
    slug: str(p.slug) ?? str(out.slug) ?? component.name,
    name: str(p.name) ?? component.name,
    billing,
    membership: (str(p.membershipMode) ?? str(out.membership) ?? defaults.membershipMode) as MembershipMode,
    roles,
    people,
  };
}

function workspaceOf(component: ResourceView, children: readonly ResourceView[]): Workspace {
  const out = propsOf(component);
  const rec = children.find((c) => c.type === Token.WorkspaceRecord);
  const p = rec ? propsOf(rec) : {};
  const memberMap = record(p.members) ?? record(out.members) ?? {};
  const members: Member[] = Object.entries(memberMap).map(([email, role]) => ({ email, role: String(known(role) ?? ""), key: emailKey(email) }));
  const integrations = Object.entries(record(p.integrations) ?? record(out.integrations) ?? {}).map(([slug, value]) => {
    const i = record(value) ?? {};
    return { slug, provider: str(i.provider) ?? "", credentialsSecret: str(i.credentialsSecret) ?? "" };
  });
  const agents = Object.entries(record(p.agents) ?? {}).map(([slug, value]) => {
    const a = record(value) ?? {};
    return { slug, name: str(a.name) ?? slug, ...(str(a.styleMemoryFrom) !== undefined ? { styleMemoryFrom: str(a.styleMemoryFrom)! } : {}) };
  });
  const profile = record(p.exportProfile);
  // The record holds the effective plan and pool (rollup drops a workspace's own); the
  // declared ones, when the Workspace registers them, are what the billing rules judge.
  const pool = record(out.creditPool) ?? record(p.creditPool);
  const plan = str(out.plan) ?? str(p.plan);
  const slug = str(p.slug) ?? str(out.slug) ?? component.name;
  return {
    slug,
    name: str(p.name) ?? slug,
    ...(plan !== undefined ? { plan } : {}),
    members,
    integrations,
    ...(pool ? { creditPool: { monthlyAllowance: Number(pool.monthlyAllowance) } } : {}),
    ...(profile ? { exportProfile: { letterhead: str(profile.letterhead) ?? "", accentColour: str(profile.accentColour) ?? "", contactBlock: str(profile.contactBlock) ?? "" } } : {}),
    agents,
    // The app role's connection limit as the Workspace resolved it (its own, else the organization's).
    ...(typeof out.connectionLimit === "number" ? { connectionLimit: out.connectionLimit } : {}),
    decommissioned: (known(p.decommissioned) ?? known(out.decommissioned)) === true,
  };
}

/** Every organization's model, plus one model (without organization) for stray workspaces. */
export function rebuildModels(resources: readonly ResourceView[], defaults: ModeDefaults = DEFAULT_MODES): RebuiltModel[] {
  const children = childrenByParent(resources);
  const kids = (r: ResourceView) => children.get(r.urn) ?? [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const parentType = (r: ResourceView) => r.parent?.type ?? (r.opts?.parent ? byUrn.get(r.opts.parent)?.type : undefined);
  const build = (organization: ResourceView | undefined, wsResources: readonly ResourceView[]): RebuiltModel => {
    const workspaces: Workspace[] = [];
    const nested = new Map<number, ResourceView[]>();
    wsResources.forEach((w, i) => {
      const inner = kids(w).filter((c) => c.type === Token.Workspace);
      const ws = workspaceOf(w, kids(w));
      if (inner.length > 0) nested.set(i, inner);
      workspaces.push(inner.length > 0 ? { ...ws, nested: inner.map((c) => c.name) } : ws);
    });
    const model: TenancyModel = {
      version: 1,
      ...(organization ? { organization: organizationOf(organization, kids(organization).find((c) => c.type === Token.OrganizationRecord), defaults) } : {}),
      workspaces,
    };
    return { model, ...(organization ? { organization } : {}), workspaces: wsResources, nested };
  };
  const models = resources.filter((r) => r.type === Token.Organization)
    .map((org) => build(org, kids(org).filter((c) => c.type === Token.Workspace)));
  const stray = resources.filter((r) => r.type === Token.Workspace && parentType(r) !== Token.Organization && parentType(r) !== Token.Workspace);
  if (stray.length > 0) models.push(build(undefined, stray));
  return models;
}

/** The resources a violation is about: the workspace its path points into, else the organization. */
export function resourcesOf(violation: Pick<Violation, "path">, rebuilt: RebuiltModel): ResourceView[] {
  const [head, index, field] = violation.path;
  if (head === "workspaces" && typeof index === "number") {
    if (field === "workspaces") return [...(rebuilt.nested.get(index) ?? [])];
    const ws = rebuilt.workspaces[index];
    if (ws) return [ws];
  }
  if (rebuilt.organization) return [rebuilt.organization];
  // No organization at all: every workspace of this model is the one at fault.
  return [...rebuilt.workspaces];
}
