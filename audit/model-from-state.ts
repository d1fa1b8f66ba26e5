// The model as found: the organization's control-plane rows rebuilt into a TenancyModel, so the
// audit runs every rule (policies/rules) on live state exactly as `tenancy validate` runs them
// on a declaration. `tenancy import` writes its declaration from the same model.
import { emailKey } from "../config/formats.ts";
import type { TenancyModel, Workspace } from "../config/model.ts";
import type { BillingMode, MembershipMode } from "../config/schema.ts";
import type { Path } from "../config/source.ts";
import { rules, runRules } from "../policies/rules/index.ts";
import type { Expected } from "./expected.ts";
import { FindingClass, type Finding } from "./findings.ts";
import type { LiveControlPlane } from "./live-state.ts";

/** The model the control plane holds for `organization`; undefined when it has no row. */
export function modelFromControlPlane(cp: LiveControlPlane): TenancyModel | undefined {
  const o = cp.organization;
  if (!o) return undefined;
  const rollup = o.billing_mode === "rollup";
  // Grouped once by workspace: a filter per workspace would make 1,000 workspaces quadratic.
  const grouped = new Map<readonly unknown[], Map<string, unknown[]>>();
  const of = <T extends { workspace_slug: string }>(rows: readonly T[], slug: string): T[] => {
    let bySlug = grouped.get(rows);
    if (!bySlug) {
      bySlug = new Map();
      for (const r of rows) bySlug.set(r.workspace_slug, [...(bySlug.get(r.workspace_slug) ?? []), r]);
      grouped.set(rows, bySlug);
    }
    return (bySlug.get(slug) ?? []) as T[];
  };
  const display = new Map(cp.people.map((p) => [p.email, p.display_email]));
  const workspaces: Workspace[] = cp.workspaces.map((w) => {
    const plan = of(cp.subscriptions, w.slug)[0]?.plan;
    const pool = of(cp.workspacePools, w.slug)[0];
    const profile = of(cp.exportProfiles, w.slug)[0];
    return {
      slug: w.slug,
      name: w.name,
      // Per-workspace billing records every workspace's plan; the organization's default is declared once.
      ...(plan !== undefined && plan !== o.plan ? { plan } : {}),
      members: of(cp.memberships, w.slug).map((m) => ({ email: display.get(m.email) ?? m.email, role: m.role, key: m.email })),
      integrations: of(cp.integrations, w.slug).map((i) => ({ slug: i.slug, provider: i.provider, credentialsSecret: i.credentials_secret_name })),
      ...(pool ? { creditPool: { monthlyAllowance: pool.monthly_allowance } } : {}),
      ...(profile ? { exportProfile: { letterhead: profile.letterhead, accentColour: profile.accent_colour, contactBlock: profile.contact_block } } : {}),
      agents: of(cp.agents, w.slug).map((a) => ({ slug: a.slug, name: a.name, ...(a.style_memory_from === null ? {} : { styleMemoryFrom: a.style_memory_from }) })),
      decommissioned: w.decommissioned,
    };
  });
  return {
    version: 1,
    organization: {
      slug: o.slug,
      name: o.name,
      billing: {
        mode: o.billing_mode as BillingMode,
        ...(o.plan === null ? {} : { plan: o.plan }),
        ...(rollup && cp.organizationPool !== undefined ? { creditPool: { monthlyAllowance: cp.organizationPool } } : {}),
      },
      membership: o.membership_mode as MembershipMode,
      roles: Object.fromEntries(cp.roles.map((r) => [r.role, [...r.permissions]])),
      people: cp.people.map((p) => ({
        email: p.display_email, key: emailKey(p.display_email),
        ...(p.name === null ? {} : { name: p.name }), ...(p.org_role === null ? {} : { orgRole: p.org_role }),
      })),
    },
    workspaces,
  };
}

/**
 * Every rule's violations on the model as found, as `rule` findings located at the declared
 * workspace (or organization) they concern.
 */
export function ruleFindings(found: TenancyModel, expected: Expected): Finding[] {
  const declaredBySlug = new Map(expected.workspaces.map((w) => [w.slug, w]));
  return runRules({ model: found }, rules).map((v) => {
    const [head, index] = v.path;
    const slug = head === "workspaces" && typeof index === "number" ? found.workspaces[index]?.slug : undefined;
    const declared = slug === undefined ? undefined : declaredBySlug.get(slug);
    const path: Path = declared ? ["workspaces", declared.index, "slug"] : slug !== undefined ? ["workspaces"] : ["organization", "slug"];
    return {
      class: FindingClass.rule, id: v.rule, ...(slug === undefined ? {} : { workspace: slug }),
      object: slug === undefined ? `organization ${JSON.stringify(expected.organization)}` : `workspace ${JSON.stringify(slug)}`,
      message: v.message, path,
    };
  });
}
