// The control-plane half of the diff: the organization's rows in tenancy_control as found,
// against the records components/control-plane/args.ts derives from the declaration. Pure.
import type { TenancyModel } from "../config/model.ts";
import type { Path } from "../config/source.ts";
import { CONTROL_SCHEMA } from "../components/naming.ts";
import { MIGRATIONS } from "../components/control-plane/migrations.ts";
import type { Expected } from "./expected.ts";
import { FindingClass as C, FindingId as Id, type Finding } from "./findings.ts";
import type { LiveState } from "./live-state.ts";

const q = (value: unknown) => JSON.stringify(value ?? null);
const DAY_MS = 86_400_000;

export interface ControlPlaneDiffOptions {
  /** Pending invitations older than this many days are reported (`info`). Default 14. */
  readonly pendingInvitationDays?: number;
}

export function diffControlPlane(model: TenancyModel, expected: Expected, live: LiveState, options: ControlPlaneDiffOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const cp = live.controlPlane;
  const add = (cls: Finding["class"], id: string, workspace: string | undefined, object: string, message: string, path: Path, extra: Pick<Finding, "declared" | "found"> = {}) =>
    findings.push({ class: cls, id, ...(workspace === undefined ? {} : { workspace }), object, message, ...extra, path });
  const changed = (workspace: string | undefined, object: string, field: string, declared: unknown, found: unknown, path: Path, id: string = Id.recordChanged) => {
    if (JSON.stringify(declared ?? null) === JSON.stringify(found ?? null)) return;
    add(C.changed, id, workspace, object, `${field} of ${object} is ${q(found)}; declared ${q(declared)}`, path, { declared: declared ?? null, found: found ?? null });
  };

  if (cp.unreadable !== undefined) {
    const absent = cp.unreadable.endsWith("does not exist");
    add(absent ? C.missing : C.boundary, absent ? Id.controlPlaneMissing : Id.controlPlaneUnreadable, undefined, `schema ${q(CONTROL_SCHEMA)}`,
      `the control plane was not read: ${cp.unreadable}`, ["organization", "slug"]);
    return findings;
  }
  const latest = MIGRATIONS.at(-1)!.version;
  const applied = cp.migrations.at(-1) ?? 0;
  if (applied !== latest) {
    add(C.changed, Id.controlPlaneVersion, undefined, `schema ${q(CONTROL_SCHEMA)}`, `${CONTROL_SCHEMA} is at migration v${applied}; this toolkit's is v${latest}`, ["organization", "slug"], { declared: latest, found: applied });
  }

  // The organization, its role catalogue, directory and pool.
  const org = expected.record;
  const orgObject = `organization ${q(org.slug)}`;
  const row = cp.organization;
  if (!row) add(C.missing, Id.recordMissing, undefined, orgObject, `${orgObject} has no row in ${CONTROL_SCHEMA}.organizations`, ["organization", "slug"]);
  else {
    changed(undefined, orgObject, "name", org.name, row.name, ["organization", "name"]);
    changed(undefined, orgObject, "billing mode", org.billingMode, row.billing_mode, ["organization", "billing", "mode"]);
    changed(undefined, orgObject, "plan", org.plan, row.plan ?? undefined, ["organization", "billing", "plan"]);
    changed(undefined, orgObject, "membership mode", org.membershipMode, row.membership_mode, ["organization", "membership"]);
    changed(undefined, orgObject, "credit pool", org.creditPool?.monthlyAllowance, cp.organizationPool, ["organization", "billing", "creditPool"]);
  }
  const liveRoles = new Map(cp.roles.map((r) => [r.role, r.permissions]));
  for (const [role, permissions] of Object.entries(org.roles)) {
    const found = liveRoles.get(role);
    if (!found) add(C.missing, Id.recordMissing, undefined, `catalogue role ${q(role)}`, `catalogue role ${q(role)} has no row in ${CONTROL_SCHEMA}.roles`, ["organization", "roles", role]);
    else changed(undefined, `catalogue role ${q(role)}`, "permissions", permissions, found, ["organization", "roles", role]);
  }
  for (const role of liveRoles.keys()) {
    if (!Object.hasOwn(org.roles, role)) add(C.unexpected, Id.recordUnexpected, undefined, `catalogue role ${q(role)}`, `catalogue role ${q(role)} is recorded but not declared`, ["organization", "roles"]);
  }
  const personIndex = new Map(model.organization!.people.map((p, i) => [p.key, i]));
  const livePeople = new Map(cp.people.map((p) => [p.email, p]));
  for (const [key, person] of Object.entries(org.people)) {
    const path: Path = ["organization", "people", personIndex.get(key) ?? -1];
    const found = livePeople.get(key);
    const object = `person ${key}`;
    if (!found) { add(C.missing, Id.recordMissing, undefined, object, `${object} is declared but not in ${CONTROL_SCHEMA}.people`, path); continue; }
    changed(undefined, object, "email", person.email, found.display_email, [...path, "email"]);
    changed(undefined, object, "name", person.name, found.name ?? undefined, [...path, "name"]);
    changed(undefined, object, "organization role", person.orgRole, found.org_role ?? undefined, [...path, "orgRole"]);
  }
  for (const key of livePeople.keys()) {
    if (!Object.hasOwn(org.people, key)) add(C.unexpected, Id.recordUnexpected, undefined, `person ${key}`, `person ${key} is in the directory but not declared`, ["organization", "people"]);
  }

  // Workspaces and everything recorded for each.
  const bySlug = <T extends { workspace_slug: string }>(rows: readonly T[]) => {
    const map = new Map<string, T[]>();
    for (const r of rows) map.set(r.workspace_slug, [...(map.get(r.workspace_slug) ?? []), r]);
    return (slug: string) => map.get(slug) ?? [];
  };
  const subscriptions = bySlug(cp.subscriptions), pools = bySlug(cp.workspacePools), profiles = bySlug(cp.exportProfiles);
  const integrations = bySlug(cp.integrations), agents = bySlug(cp.agents), memberships = bySlug(cp.memberships), invitations = bySlug(cp.invitations);
  const liveWorkspaces = new Map(cp.workspaces.map((w) => [w.slug, w]));
  const active = new Set(cp.activeUsers);
  for (const ws of expected.workspaces) {
    const rec = ws.record;
    const at: Path = ["workspaces", ws.index];
    const object = `workspace ${q(ws.slug)}`;
    const found = liveWorkspaces.get(ws.slug);
    if (!found) { add(C.missing, Id.recordMissing, ws.slug, object, `${object} has no row in ${CONTROL_SCHEMA}.workspaces`, [...at, "slug"]); continue; }
    changed(ws.slug, object, "name", rec.name, found.name, [...at, "name"]);
    changed(ws.slug, object, "decommissioned", rec.decommissioned, found.decommissioned, [...at, "slug"]);
    changed(ws.slug, object, "subscription plan", rec.plan, subscriptions(ws.slug)[0]?.plan, [...at, "plan"]);
    changed(ws.slug, object, "credit pool", rec.creditPool?.monthlyAllowance, pools(ws.slug)[0]?.monthly_allowance, [...at, "creditPool"]);
    const p = profiles(ws.slug)[0];
    changed(ws.slug, object, "export profile", rec.exportProfile, p && { letterhead: p.letterhead, accentColour: p.accent_colour, contactBlock: p.contact_block }, [...at, "exportProfile"]);

    const declaredWs = model.workspaces[ws.index]!;
    const liveAgents = new Map(agents(ws.slug).map((a) => [a.slug, a]));
    for (const [slug, agent] of Object.entries(rec.agents)) {
      const path: Path = [...at, "agents", declaredWs.agents.findIndex((a) => a.slug === slug)];
      const a = liveAgents.get(slug);
      if (!a) add(C.missing, Id.recordMissing, ws.slug, `agent ${q(slug)} of ${object}`, `agent ${q(slug)} of ${object} is declared but not recorded`, path);
      else changed(ws.slug, `agent ${q(slug)} of ${object}`, "definition", agent, { name: a.name, ...(a.style_memory_from === null ? {} : { styleMemoryFrom: a.style_memory_from }) }, path);
    }
    for (const slug of liveAgents.keys()) {
      if (!Object.hasOwn(rec.agents, slug)) add(C.unexpected, Id.recordUnexpected, ws.slug, `agent ${q(slug)} of ${object}`, `agent ${q(slug)} of ${object} is recorded but not declared`, [...at, "agents"]);
    }
    const liveIntegrations = new Map(integrations(ws.slug).map((i) => [i.slug, i]));
    for (const [slug, integration] of Object.entries(rec.integrations)) {
      const path: Path = [...at, "integrations", declaredWs.integrations.findIndex((i) => i.slug === slug)];
      const i = liveIntegrations.get(slug);
      const what = `integration ${q(slug)} of ${object}`;
      if (!i) add(C.missing, Id.integrationMissing, ws.slug, what, `${what} is declared but not recorded`, path);
      else changed(ws.slug, what, "provider and secret name", integration, { provider: i.provider, credentialsSecret: i.credentials_secret_name }, path, Id.integrationChanged);
    }
    for (const slug of liveIntegrations.keys()) {
      if (!Object.hasOwn(rec.integrations, slug)) add(C.unexpected, Id.integrationUnexpected, ws.slug, `integration ${q(slug)} of ${object}`, `integration ${q(slug)} of ${object} is recorded but not declared`, [...at, "integrations"]);
    }
    const liveMembers = new Map(memberships(ws.slug).map((m) => [m.email, m.role]));
    const invited = new Set(invitations(ws.slug).map((i) => i.email));
    for (const [email, role] of Object.entries(ws.members.members)) {
      const path: Path = [...at, "members", declaredWs.members.findIndex((m) => m.key === email)];
      const found = liveMembers.get(email);
      const what = `member ${email} of ${object}`;
      if (found === undefined) add(C.missing, Id.memberMissing, ws.slug, what, `${what} is declared but has no membership`, path);
      else changed(ws.slug, what, "role", role, found, [...path, "role"], Id.memberRoleChanged);
      if (!active.has(email) && !invited.has(email)) add(C.missing, Id.invitationMissing, ws.slug, what, `${what} is not an active user and was never invited`, path);
    }
    for (const email of liveMembers.keys()) {
      if (!Object.hasOwn(ws.members.members, email)) add(C.unexpected, Id.memberUnexpected, ws.slug, `member ${email} of ${object}`, `member ${email} of ${object} has role ${q(liveMembers.get(email))} but is not declared`, [...at, "members"]);
    }
  }
  const declared = new Set(expected.workspaces.map((w) => w.slug));
  const expectedBySlug = new Map(expected.workspaces.map((w) => [w.slug, w]));
  for (const w of cp.workspaces) {
    if (!declared.has(w.slug)) add(C.unexpected, Id.recordUnexpected, w.slug, `workspace ${q(w.slug)}`, `workspace ${q(w.slug)} is recorded in ${CONTROL_SCHEMA}.workspaces but not declared`, ["workspaces"]);
  }

  // Invitations the SaaS has not resolved for long: worth a look, not a deviation.
  const days = options.pendingInvitationDays ?? 14;
  const now = Date.parse(live.snapshotAt);
  for (const i of cp.invitations) {
    const age = Math.floor((now - Date.parse(i.invited_at)) / DAY_MS);
    if (i.status !== "pending" || age < days) continue;
    const ws = expectedBySlug.get(i.workspace_slug);
    const member = ws ? model.workspaces[ws.index]!.members.findIndex((m) => m.key === i.email) : -1;
    const path: Path = ws ? (member >= 0 ? ["workspaces", ws.index, "members", member] : ["workspaces", ws.index, "members"]) : ["workspaces"];
    add(C.info, Id.invitationPending, i.workspace_slug, `invitation of ${i.email} to workspace ${q(i.workspace_slug)}`,
      `the invitation of ${i.email} to workspace ${q(i.workspace_slug)} has been pending for ${age} days (since ${i.invited_at.slice(0, 10)}; threshold ${days})`, path);
  }
  return findings;
}
