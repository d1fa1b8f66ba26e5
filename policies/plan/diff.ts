// The semantic diff of two declarations: pure, over two models (either may be absent: a new
// stack, a removed stack). Lists are compared by stable keys (slugs, normalised emails), so
// reordering the YAML is no change. Organization-level changes come first, then workspaces in
// the head's order, with deleted workspaces (base only) first of all.
import type { Organization, TenancyModel, Workspace } from "../../config/model.ts";
import { ChangeKind, RiskKind, type Change } from "./report.ts";
import { diffWorkspace, placedKeys } from "./diff-workspace.ts";
import { Names, plural, quoted, safe, workspaceName } from "./words.ts";

export function diffModels(base: TenancyModel | undefined, head: TenancyModel | undefined): Change[] {
  const names = new Names(head, base);
  const before = base?.organization;
  const after = head?.organization;
  const changes: Change[] = [];
  const replaced = before && after && before.slug !== after.slug;

  if (before && (!after || replaced)) {
    changes.push({
      kind: ChangeKind.OrganizationRemoved, subject: safe(before.slug), risk: RiskKind.Irreversible,
      summary: `organization ${safe(before.name)} (${safe(before.slug)}) is removed, with ${plural(base!.workspaces.length, "workspace")}`,
    });
  }
  if (after && (!before || replaced)) {
    changes.push({
      kind: ChangeKind.OrganizationCreated, subject: safe(after.slug),
      summary: `organization ${safe(after.name)} (${safe(after.slug)}) is created`,
    });
  }
  // A new slug is a new organization: everything under the old one goes, everything under the new one comes.
  const same = !replaced;
  changes.push(...diffOrganization(same ? before : undefined, after, names));

  const baseWorkspaces = base?.workspaces ?? [];
  const headWorkspaces = head?.workspaces ?? [];
  const headSlugs = new Set(replaced ? [] : headWorkspaces.map((ws) => ws.slug));
  for (const ws of baseWorkspaces) {
    if (headSlugs.has(ws.slug)) continue;
    changes.push(workspaceDeleted(ws));
  }
  const baseBySlug = new Map(replaced ? [] : baseWorkspaces.map((ws) => [ws.slug, ws]));
  const placedBefore = placedKeys(replaced ? undefined : base);
  for (const ws of headWorkspaces) {
    changes.push(...diffWorkspace(baseBySlug.get(ws.slug), ws, { names, placedBefore, created: !baseBySlug.has(ws.slug) }));
  }
  return changes;
}

function workspaceDeleted(ws: Workspace): Change {
  const parts = [plural(ws.members.length, "member"), plural(ws.integrations.length, "integration"), plural(ws.agents.length, "agent")];
  return {
    kind: ChangeKind.WorkspaceDeleted, workspace: safe(ws.slug), risk: RiskKind.Irreversible,
    summary: `workspace ${workspaceName(ws)} is deleted, permanently: its data, ${parts.join(", ")}${ws.decommissioned ? "" : " (it was not decommissioned first)"}`,
  };
}

function diffOrganization(before: Organization | undefined, after: Organization | undefined, names: Names): Change[] {
  if (!after) return [];
  const changes: Change[] = [];
  const org = `organization ${safe(after.slug)}`;
  if (before) {
    if (before.name !== after.name) {
      changes.push({ kind: ChangeKind.OrganizationRenamed, before: safe(before.name), after: safe(after.name), summary: `${org} is renamed ${quoted(before.name)} → ${quoted(after.name)}` });
    }
    if (before.billing.mode !== after.billing.mode) {
      changes.push({
        kind: ChangeKind.BillingModeChanged, before: before.billing.mode, after: after.billing.mode, risk: RiskKind.Boundary,
        summary: `billing mode changes ${quoted(before.billing.mode)} → ${quoted(after.billing.mode)}: who pays and whose credits each workspace draws on`,
      });
    }
    if (before.membership !== after.membership) {
      changes.push({
        kind: ChangeKind.MembershipModeChanged, before: before.membership, after: after.membership, risk: RiskKind.Boundary,
        summary: `membership mode changes ${quoted(before.membership)} → ${quoted(after.membership)}`,
      });
    }
  }
  const plan = { before: before?.billing.plan ?? null, after: after.billing.plan ?? null };
  if (plan.before !== plan.after && (before || plan.after !== null)) {
    changes.push({
      kind: ChangeKind.PlanChanged, before: nullable(plan.before), after: nullable(plan.after),
      summary: `${org} plan ${quoted(plan.before)} → ${quoted(plan.after)}`,
    });
  }
  const pool = { before: before?.billing.creditPool?.monthlyAllowance ?? null, after: after.billing.creditPool?.monthlyAllowance ?? null };
  if (pool.before !== pool.after && (before || pool.after !== null)) {
    changes.push({
      kind: ChangeKind.CreditPoolChanged, before: pool.before, after: pool.after,
      summary: `${org} credit pool ${quoted(pool.before)} → ${quoted(pool.after)} credits a month`,
    });
  }
  changes.push(...diffRoles(before, after));
  changes.push(...diffPeople(before, after, names));
  return changes;
}

function diffRoles(before: Organization | undefined, after: Organization): Change[] {
  const changes: Change[] = [];
  const old = before?.roles ?? {};
  for (const [role, permissions] of Object.entries(after.roles)) {
    if (!Object.hasOwn(old, role)) {
      changes.push({ kind: ChangeKind.RoleAdded, subject: safe(role), after: permissions.map(safe), summary: `role ${quoted(role)} is added: ${list(permissions)}` });
    } else if (!sameList(old[role]!, permissions)) {
      changes.push({
        kind: ChangeKind.RolePermissionsChanged, subject: safe(role), before: old[role]!.map(safe), after: permissions.map(safe),
        summary: `role ${quoted(role)} permissions ${list(old[role]!)} → ${list(permissions)}`,
      });
    }
  }
  for (const [role, permissions] of Object.entries(old)) {
    if (Object.hasOwn(after.roles, role)) continue;
    changes.push({ kind: ChangeKind.RoleRemoved, subject: safe(role), before: permissions.map(safe), summary: `role ${quoted(role)} is removed` });
  }
  return changes;
}

function diffPeople(before: Organization | undefined, after: Organization, names: Names): Change[] {
  const changes: Change[] = [];
  const old = new Map((before?.people ?? []).map((p) => [p.key, p]));
  const now = new Map(after.people.map((p) => [p.key, p]));
  for (const [key, p] of now) {
    const was = old.get(key);
    const who = () => names.person(key);
    if (!was) {
      changes.push({
        kind: ChangeKind.PersonAdded, subject: safe(key), after: nullable(p.orgRole ?? null),
        summary: `${who()} joins the organization's directory${p.orgRole ? ` with orgRole ${quoted(p.orgRole)}` : ""}`,
      });
      continue;
    }
    if ((was.orgRole ?? null) !== (p.orgRole ?? null)) {
      changes.push({
        kind: ChangeKind.OrgRoleChanged, subject: safe(key), before: nullable(was.orgRole ?? null), after: nullable(p.orgRole ?? null),
        summary: `${who()} orgRole ${quoted(was.orgRole)} → ${quoted(p.orgRole)}`,
      });
    }
    if ((was.name ?? null) !== (p.name ?? null)) {
      changes.push({
        kind: ChangeKind.PersonRenamed, subject: safe(key), before: nullable(was.name ?? null), after: nullable(p.name ?? null),
        summary: `${safe(p.email)} is renamed ${quoted(was.name)} → ${quoted(p.name)}`,
      });
    }
  }
  for (const [key] of old) {
    if (now.has(key)) continue;
    changes.push({ kind: ChangeKind.PersonRemoved, subject: safe(key), summary: `${names.person(key)} leaves the organization's directory` });
  }
  return changes;
}

export function nullable(value: string | null): string | null {
  return value === null ? null : safe(value);
}

function list(values: readonly string[]): string {
  return values.length === 0 ? "(none)" : values.map(safe).join(", ");
}

/** Permissions are a set: their order in the YAML means nothing. */
function sameList(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}
