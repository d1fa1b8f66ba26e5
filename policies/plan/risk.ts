// The risk summary: what a reviewer must see first. Irreversible deletions, then people gaining
// or losing admin (in a workspace, or of the organization), then boundary-related changes
// (integrations, billing mode, membership mode). Admin is computed from both versions' role
// catalogues, so a catalogue change that makes people admins shows up too.
import { permissionsOf, type Organization, type TenancyModel } from "../../config/model.ts";
import { Permission } from "../rules/people.ts";
import { adminsOf } from "../rules/transitions.ts";
import { RISK_ORDER, RiskKind, type Change, type Risk } from "./report.ts";
import { Names, safe, workspaceName } from "./words.ts";

export function risksOf(base: TenancyModel | undefined, head: TenancyModel | undefined, changes: readonly Change[]): Risk[] {
  const risks: Risk[] = changes
    .filter((c) => c.risk !== undefined)
    .map((c) => ({ kind: c.risk!, ...(c.workspace !== undefined ? { workspace: c.workspace } : {}), summary: c.summary }));
  risks.push(...adminRisks(base, head));
  // Stable sort: within a kind, the order of the changes (organization, then workspaces).
  return risks.sort((a, b) => RISK_ORDER.indexOf(a.kind) - RISK_ORDER.indexOf(b.kind));
}

function adminRisks(base: TenancyModel | undefined, head: TenancyModel | undefined): Risk[] {
  const names = new Names(head, base);
  const risks: Risk[] = [];
  // A new organization slug replaces everything: compare with nothing.
  const replaced = base?.organization && head?.organization && base.organization.slug !== head.organization.slug;
  const old = replaced ? undefined : base;

  const orgAdmins = (org: Organization | undefined) =>
    new Set((org?.people ?? []).filter((p) => permissionsOf(org, p.orgRole)?.includes(Permission.WorkspacesManage)).map((p) => p.key));
  const [orgBefore, orgAfter] = [orgAdmins(old?.organization), orgAdmins(head?.organization)];
  for (const key of orgAfter) {
    if (!orgBefore.has(key)) risks.push({ kind: RiskKind.Admin, summary: `${names.person(key)} becomes an organization admin (orgRole grants "${Permission.WorkspacesManage}")` });
  }
  if (head?.organization) {
    for (const key of orgBefore) {
      if (!orgAfter.has(key)) risks.push({ kind: RiskKind.Admin, summary: `${names.person(key)} is no longer an organization admin` });
    }
  }

  const adminBefore = new Map<string, string[]>(); // person -> workspaces where admin
  const oldWorkspaces = new Map((old?.workspaces ?? []).map((ws) => [ws.slug, ws]));
  for (const ws of old?.workspaces ?? []) {
    for (const key of adminsOf(old?.organization, ws)) {
      const slugs = adminBefore.get(key);
      if (slugs) slugs.push(ws.slug);
      else adminBefore.set(key, [ws.slug]);
    }
  }
  const adminAfter = new Set<string>();
  for (const ws of head?.workspaces ?? []) {
    const was = oldWorkspaces.get(ws.slug);
    const before = new Set(was ? adminsOf(old?.organization, was) : []);
    const after = adminsOf(head?.organization, ws);
    for (const key of after) {
      adminAfter.add(key);
      if (!before.has(key)) {
        risks.push({ kind: RiskKind.Admin, workspace: safe(ws.slug), summary: `${names.person(key)} becomes admin of ${was ? "" : "the new workspace "}${workspaceName(ws)}` });
      }
    }
    const now = new Set(after);
    for (const key of before) {
      if (!now.has(key)) risks.push({ kind: RiskKind.Admin, workspace: safe(ws.slug), summary: `${names.person(key)} is no longer admin of ${workspaceName(ws)}` });
    }
  }
  if (head) {
    for (const [key, slugs] of adminBefore) {
      if (adminAfter.has(key)) continue;
      risks.push({ kind: RiskKind.Admin, summary: `${names.person(key)} loses their last workspace admin role (was admin of ${slugs.map(safe).join(", ")})` });
    }
  }
  return risks;
}
