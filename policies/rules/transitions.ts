// Change rules: they compare the declaration before a change with the one after it, and guard
// what a single reviewed change may do. They run only when a previous version is given
// (`tenancy plan`); validate, the policy pack and the audit see one version and skip them.
//
// Findings about something that is gone point into the previous version (`in: "previous"`);
// findings about something still declared point into the current one.
import { permissionsOf, type Organization, type Workspace } from "../../config/model.ts";
import { Permission } from "./people.ts";
import { defineRule, quote, Severity, type RuleContext } from "./types.ts";

export const DEFAULT_MAX_REMOVAL_SHARE = 0.25;
export const DEFAULT_MIN_ADMINS = 1;
/** Emails quoted in one message at most; the rest are counted. */
const LISTED = 10;

export const organizationDeleteBlocked = defineRule({
  id: "organization-delete-blocked",
  description: "Checks that an organization does not disappear from a stack while it still has workspaces.",
  severity: Severity.Error,
  needs: "change",
  *check({ model, previous }) {
    const before = previous!.organization;
    if (!before || previous!.workspaces.length === 0) return;
    const after = model.organization;
    if (after?.slug === before.slug) return;
    const workspaces = listed(previous!.workspaces.map((ws) => ws.slug));
    if (after) {
      yield {
        path: ["organization", "slug"],
        message: `organization ${quote(before.slug)} must not be replaced by ${quote(after.slug)} while it has workspaces (${workspaces}); a new slug is a new organization`,
      };
      return;
    }
    yield {
      in: "previous",
      path: ["organization"],
      message: `organization ${quote(before.slug)} must not be removed while it has workspaces (${workspaces}); decommission and delete them first`,
    };
  },
});

export const workspaceDeleteGuarded = defineRule({
  id: "workspace-delete-guarded",
  description: "Checks that a workspace leaves the declaration only if the previous version already marked it `decommissioned: true`.",
  severity: Severity.Error,
  needs: "change",
  acknowledgeable: true,
  *check({ model, previous }) {
    const kept = new Set(model.workspaces.map((ws) => ws.slug));
    for (const [w, ws] of previous!.workspaces.entries()) {
      if (kept.has(ws.slug) || ws.decommissioned) continue;
      yield {
        in: "previous",
        path: ["workspaces", w, "slug"],
        workspace: ws.slug,
        message: `workspace ${quote(ws.slug)} must be marked decommissioned: true (and applied) before it is removed; deleting it destroys its data permanently`,
      };
    }
  },
});

export const massRemovalGuarded = defineRule({
  id: "mass-removal-guarded",
  description: "Checks that one change removes no more than a set share (default 25%) of a workspace's members or of the organization's directory.",
  severity: Severity.Error,
  needs: "change",
  acknowledgeable: true,
  *check({ model, previous, settings }) {
    const share = settings?.maxRemovalShare ?? DEFAULT_MAX_REMOVAL_SHARE;
    const limit = percent(share);
    const before = new Map(previous!.workspaces.map((ws) => [ws.slug, ws]));
    for (const [w, ws] of model.workspaces.entries()) {
      const old = before.get(ws.slug);
      if (!old) continue;
      const removed = removedKeys(old.members, ws.members);
      if (removed.length / (old.members.length || 1) <= share) continue;
      yield {
        path: ["workspaces", w, "members"],
        workspace: ws.slug,
        message: `workspace ${quote(ws.slug)} must not lose more than ${limit} of its members in one change; removing ${removed.length} of ${old.members.length} (${percent(removed.length / old.members.length)}): ${listed(removed)}`,
      };
    }
    const org = model.organization;
    const oldOrg = previous!.organization;
    if (!org || !oldOrg || org.slug !== oldOrg.slug) return;
    const removed = removedKeys(oldOrg.people, org.people);
    if (removed.length / (oldOrg.people.length || 1) <= share) return;
    yield {
      path: ["organization", "people"],
      message: `the directory of ${quote(org.slug)} must not lose more than ${limit} of its people in one change; removing ${removed.length} of ${oldOrg.people.length} (${percent(removed.length / oldOrg.people.length)}): ${listed(removed)}`,
    };
  },
});

export const adminRemovalGuarded = defineRule({
  id: "admin-removal-guarded",
  description: "Checks that a change leaving a workspace with fewer admins than before keeps at least a set minimum (default 1).",
  severity: Severity.Error,
  needs: "change",
  acknowledgeable: true,
  *check({ model, previous, settings }: RuleContext) {
    const min = settings?.minAdmins ?? DEFAULT_MIN_ADMINS;
    const before = new Map(previous!.workspaces.map((ws) => [ws.slug, ws]));
    for (const [w, ws] of model.workspaces.entries()) {
      const old = before.get(ws.slug);
      if (!old) continue;
      const was = adminsOf(previous!.organization, old);
      const now = adminsOf(model.organization, ws);
      if (now.length >= was.length || now.length >= min) continue;
      const lost = was.filter((key) => !now.includes(key));
      yield {
        path: ["workspaces", w, "members"],
        workspace: ws.slug,
        message: `workspace ${quote(ws.slug)} must keep at least ${min} admin${min === 1 ? "" : "s"} when admins are removed; admins ${was.length} → ${now.length}, no longer admin: ${listed(lost)}`,
      };
    }
  },
});

/**
 * Email keys of a workspace's members whose role grants `members.manage`, in that version's
 * catalogue. `tenancy plan` asks for every workspace of both versions from this rule and again
 * from the risk summary: computed once per workspace and catalogue (models are not changed
 * once built). Callers must not modify the array.
 */
export function adminsOf(org: Organization | undefined, ws: Workspace): readonly string[] {
  const known = adminsCache.get(ws);
  if (known && known.org === org) return known.admins;
  const roles = adminRoles(org);
  const admins = new Set<string>();
  for (const m of ws.members) if (roles.has(m.role)) admins.add(m.key);
  const list = [...admins];
  adminsCache.set(ws, { org, admins: list });
  return list;
}
const adminsCache = new WeakMap<Workspace, { org: Organization | undefined; admins: readonly string[] }>();

// Called once per workspace and version, so the catalogue is read once per organization.
const adminRoleCache = new WeakMap<Organization, Set<string>>();
function adminRoles(org: Organization | undefined): Set<string> {
  if (!org) return new Set();
  let roles = adminRoleCache.get(org);
  if (!roles) {
    roles = new Set(Object.keys(org.roles).filter((role) => permissionsOf(org, role)?.includes(Permission.MembersManage)));
    adminRoleCache.set(org, roles);
  }
  return roles;
}

function removedKeys(before: readonly { key: string }[], after: readonly { key: string }[]): string[] {
  const kept = new Set(after.map((x) => x.key));
  return [...new Set(before.map((x) => x.key).filter((key) => !kept.has(key)))];
}

function listed(values: readonly string[]): string {
  const shown = values.slice(0, LISTED).map(quote).join(", ");
  return values.length > LISTED ? `${shown} and ${values.length - LISTED} more` : shown;
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}
