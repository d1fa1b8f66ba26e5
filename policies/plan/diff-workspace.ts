// One workspace's changes: its status, members, integrations, plan and pool, export profile and
// agents. A created workspace is diffed against an empty one, so everything it starts with is
// listed (who its admins are matters most when it is new).
import type { TenancyModel, Workspace } from "../../config/model.ts";
import { ChangeKind, RiskKind, type Change } from "./report.ts";
import { Names, quoted, safe, workspaceName } from "./words.ts";

export interface WorkspaceDiffContext {
  readonly names: Names;
  /** Normalised emails of people who were a member of some workspace in the base. */
  readonly placedBefore: ReadonlySet<string>;
  readonly created: boolean;
}

export function placedKeys(model: TenancyModel | undefined): Set<string> {
  const keys = new Set<string>();
  for (const ws of model?.workspaces ?? []) for (const m of ws.members) keys.add(m.key);
  return keys;
}

/** Same members with the same roles in the same order (a different order falls to the keyed comparison). */
function sameMembers(a: Workspace, b: Workspace): boolean {
  if (a.members.length !== b.members.length) return false;
  for (let i = 0; i < a.members.length; i++) {
    if (a.members[i]!.key !== b.members[i]!.key || a.members[i]!.role !== b.members[i]!.role) return false;
  }
  return true;
}

export function emptyWorkspace(slug: string): Workspace {
  return { slug, name: slug, members: [], integrations: [], agents: [], decommissioned: false };
}

export function diffWorkspace(base: Workspace | undefined, ws: Workspace, context: WorkspaceDiffContext): Change[] {
  const before = base ?? emptyWorkspace(ws.slug);
  const changes: Change[] = [];
  // Most workspaces of a large declaration do not change: screen names only once one does.
  let shown: { slug: string; name: string } | undefined;
  const names = () => (shown ??= { slug: safe(ws.slug), name: workspaceName(ws) });
  const add = (change: Omit<Change, "workspace">) => changes.push({ workspace: names().slug, ...change });

  if (context.created) {
    add({ kind: ChangeKind.WorkspaceCreated, summary: `workspace ${names().name} is created${ws.decommissioned ? " (already decommissioned)" : ""}` });
  } else {
    if (before.name !== ws.name) {
      add({ kind: ChangeKind.WorkspaceRenamed, before: safe(before.name), after: safe(ws.name), summary: `workspace ${safe(ws.slug)} is renamed ${quoted(before.name)} → ${quoted(ws.name)}` });
    }
    if (before.decommissioned !== ws.decommissioned) {
      add(ws.decommissioned
        ? { kind: ChangeKind.WorkspaceDecommissioned, before: false, after: true, summary: `workspace ${names().name} is decommissioned: its protection is lifted, so a later change can delete it` }
        : { kind: ChangeKind.WorkspaceRecommissioned, before: true, after: false, summary: `workspace ${names().name} is no longer decommissioned: protected again` });
    }
  }

  // Members, keyed by normalised email. Most workspaces of a large declaration are unchanged
  // and listed in the same order: a pass without allocations settles those.
  if (!sameMembers(before, ws)) {
    const oldMembers = new Map(before.members.map((m) => [m.key, m]));
    const newMembers = new Map(ws.members.map((m) => [m.key, m]));
    for (const [key, m] of newMembers) {
      const was = oldMembers.get(key);
      if (!was) {
        const via = context.placedBefore.has(key) ? "direct" : "invitation";
        add({
          kind: ChangeKind.MemberAdded, subject: safe(key), after: safe(m.role), via,
          summary: `${context.names.person(key)} joins ${names().name} as ${quoted(m.role)} (${via === "direct" ? "added directly: already in another workspace" : "an invitation: in no workspace before"})`,
        });
      } else if (was.role !== m.role) {
        add({ kind: ChangeKind.MemberRoleChanged, subject: safe(key), before: safe(was.role), after: safe(m.role), summary: `${context.names.person(key)} in ${names().name}: ${quoted(was.role)} → ${quoted(m.role)}` });
      }
    }
    for (const [key, was] of oldMembers) {
      if (newMembers.has(key)) continue;
      add({ kind: ChangeKind.MemberRemoved, subject: safe(key), before: safe(was.role), summary: `${context.names.person(key)} leaves ${names().name} (was ${quoted(was.role)})` });
    }
  }

  // Integrations: boundary-related by nature (credentials scoped to this workspace). Secret NAMES only.
  const oldIntegrations = new Map(before.integrations.map((i) => [i.slug, i]));
  const newIntegrations = new Map(ws.integrations.map((i) => [i.slug, i]));
  for (const [key, i] of newIntegrations) {
    const was = oldIntegrations.get(key);
    if (!was) {
      add({
        kind: ChangeKind.IntegrationConnected, subject: safe(key), after: safe(i.credentialsSecret), risk: RiskKind.Boundary,
        summary: `${safe(i.provider)} is connected to ${names().name} as integration ${quoted(i.slug)} (credentials from secret ${quoted(i.credentialsSecret)})`,
      });
    } else if (was.provider !== i.provider || was.credentialsSecret !== i.credentialsSecret) {
      const what = [
        ...(was.provider !== i.provider ? [`provider ${quoted(was.provider)} → ${quoted(i.provider)}`] : []),
        ...(was.credentialsSecret !== i.credentialsSecret ? [`credentials secret ${quoted(was.credentialsSecret)} → ${quoted(i.credentialsSecret)}`] : []),
      ];
      add({
        kind: ChangeKind.IntegrationChanged, subject: safe(key), risk: RiskKind.Boundary,
        // [provider, secret name], each screened on its own.
        before: [safe(was.provider), safe(was.credentialsSecret)], after: [safe(i.provider), safe(i.credentialsSecret)],
        summary: `integration ${quoted(key)} of ${names().name}: ${what.join("; ")}`,
      });
    }
  }
  for (const [key, was] of oldIntegrations) {
    if (newIntegrations.has(key)) continue;
    add({
      kind: ChangeKind.IntegrationRemoved, subject: safe(key), before: safe(was.credentialsSecret), risk: RiskKind.Boundary,
      summary: `integration ${quoted(key)} (${safe(was.provider)}) is disconnected from ${names().name}`,
    });
  }

  // Billing: declared values (the organization's default plan is its own change).
  const plan = { before: before.plan ?? null, after: ws.plan ?? null };
  if (plan.before !== plan.after) {
    add({ kind: ChangeKind.PlanChanged, before: plan.before && safe(plan.before), after: plan.after && safe(plan.after), summary: `${names().name} plan ${quoted(plan.before)} → ${quoted(plan.after)}` });
  }
  const pool = { before: before.creditPool?.monthlyAllowance ?? null, after: ws.creditPool?.monthlyAllowance ?? null };
  if (pool.before !== pool.after) {
    add({ kind: ChangeKind.CreditPoolChanged, before: pool.before, after: pool.after, summary: `${names().name} credit pool ${quoted(pool.before)} → ${quoted(pool.after)} credits a month` });
  }

  // Export profile, field by field; absent means the SaaS default.
  const fields = ["letterhead", "accentColour", "contactBlock"] as const;
  if (!before.exportProfile !== !ws.exportProfile) {
    add({
      kind: ChangeKind.ExportProfileChanged,
      summary: ws.exportProfile ? `${names().name} gets its own export profile (letterhead ${quoted(ws.exportProfile.letterhead)})` : `${names().name} goes back to the default export profile`,
    });
  } else if (before.exportProfile && ws.exportProfile) {
    for (const field of fields) {
      const [was, now] = [before.exportProfile[field], ws.exportProfile[field]];
      if (was !== now) add({ kind: ChangeKind.ExportProfileChanged, subject: field, before: safe(was), after: safe(now), summary: `${names().name} export ${field} ${quoted(was)} → ${quoted(now)}` });
    }
  }

  // Agents and where their style memory comes from.
  const oldAgents = new Map(before.agents.map((a) => [a.slug, a]));
  const newAgents = new Map(ws.agents.map((a) => [a.slug, a]));
  for (const [key, a] of newAgents) {
    const was = oldAgents.get(key);
    const from = a.styleMemoryFrom ?? null;
    if (!was) {
      add({
        kind: ChangeKind.AgentAdded, subject: safe(key), after: from && safe(from),
        summary: `agent ${safe(a.name)} (${safe(key)}) is added to ${names().name}${from ? `, style memory from ${quoted(from)}` : ""}`,
      });
      continue;
    }
    if (was.name !== a.name) {
      add({ kind: ChangeKind.AgentRenamed, subject: safe(key), before: safe(was.name), after: safe(a.name), summary: `agent ${safe(key)} of ${names().name} is renamed ${quoted(was.name)} → ${quoted(a.name)}` });
    }
    const old = was.styleMemoryFrom ?? null;
    if (old !== from) {
      add({
        kind: ChangeKind.StyleMemoryChanged, subject: safe(key), before: old && safe(old), after: from && safe(from),
        summary: `agent ${safe(key)} of ${names().name} takes its style memory from ${from ? quoted(from) : "itself"} (was ${old ? quoted(old) : "itself"})`,
      });
    }
  }
  for (const [key, was] of oldAgents) {
    if (newAgents.has(key)) continue;
    add({ kind: ChangeKind.AgentRemoved, subject: safe(key), summary: `agent ${safe(was.name)} (${safe(key)}) is removed from ${names().name}, with its style memory` });
  }
  return changes;
}
