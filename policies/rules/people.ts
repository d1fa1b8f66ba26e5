// People, roles and memberships. Emails compare by their normalised key (NFKC, lower case).
import { permissionsOf, type TenancyModel } from "../../config/model.ts";
import { MembershipMode } from "../../config/schema.ts";
import { defineRule, quote, Severity } from "./types.ts";

export const Permission = {
  WorkspacesManage: "workspaces.manage",
  MembersManage: "members.manage",
} as const;

export const roleDefined = defineRule({
  id: "role-defined",
  description: "Checks that every role given to a person or member is defined in the organization's role catalogue.",
  severity: Severity.Error,
  *check({ model }) {
    const org = model.organization;
    if (!org) return;
    const known = Object.keys(org.roles).map(quote).join(", ") || "(none)";
    for (const [p, person] of org.people.entries()) {
      if (person.orgRole !== undefined && !permissionsOf(org, person.orgRole)) {
        yield { path: ["organization", "people", p, "orgRole"], message: `orgRole ${quote(person.orgRole)} of ${quote(person.email)} must be defined in organization.roles; defined: ${known}` };
      }
    }
    for (const [w, ws] of model.workspaces.entries()) {
      for (const [m, member] of ws.members.entries()) {
        if (!permissionsOf(org, member.role)) {
          yield { path: ["workspaces", w, "members", m, "role"], message: `role ${quote(member.role)} of ${quote(member.email)} in workspace ${quote(ws.slug)} must be defined in organization.roles; defined: ${known}` };
        }
      }
    }
  },
});

export const inviteOnce = defineRule({
  id: "invite-once",
  description: "Checks that a person is listed once in the directory and at most once per workspace, so nobody is invited twice.",
  severity: Severity.Error,
  *check({ model }) {
    const seen = new Map<string, number>();
    for (const [p, person] of (model.organization?.people ?? []).entries()) {
      const first = seen.get(person.key);
      if (first === undefined) seen.set(person.key, p);
      else yield { path: ["organization", "people", p, "email"], message: `person ${quote(person.email)} must be listed once in organization.people; already at people[${first}]` };
    }
    const inWorkspace = new Map<string, number>(); // one map, cleared per workspace: no allocation per workspace
    for (const [w, ws] of model.workspaces.entries()) {
      inWorkspace.clear();
      for (const [m, member] of ws.members.entries()) {
        const first = inWorkspace.get(member.key);
        if (first === undefined) inWorkspace.set(member.key, m);
        else yield { path: ["workspaces", w, "members", m, "email"], message: `${quote(member.email)} must be a member of workspace ${quote(ws.slug)} once; already at members[${first}]` };
      }
    }
  },
});

export const memberInDirectory = defineRule({
  id: "member-in-directory",
  description: "Checks that every workspace member is a person in the organization's directory.",
  severity: Severity.Error,
  *check({ model }) {
    if (!model.organization) return;
    const directory = new Set(model.organization.people.map((p) => p.key));
    for (const [w, ws] of model.workspaces.entries()) {
      for (const [m, member] of ws.members.entries()) {
        if (!directory.has(member.key)) {
          yield { path: ["workspaces", w, "members", m, "email"], message: `member ${quote(member.email)} of workspace ${quote(ws.slug)} must be listed in organization.people first` };
        }
      }
    }
  },
});

export const workspaceHasAdmin = defineRule({
  id: "workspace-has-admin",
  description: `Checks that every workspace keeps at least one member whose role grants "${Permission.MembersManage}".`,
  severity: Severity.Error,
  *check({ model }) {
    const org = model.organization;
    if (!org) return;
    for (const [w, ws] of model.workspaces.entries()) {
      if (ws.members.some((m) => permissionsOf(org, m.role)?.includes(Permission.MembersManage))) continue;
      const members = ws.members.map((m) => `${m.email} (${m.role})`).join(", ") || "(none)";
      yield { path: ["workspaces", w, "members"], message: `workspace ${quote(ws.slug)} must have at least one admin (a role granting "${Permission.MembersManage}"); members: ${members}` };
    }
  },
});

export const workspaceManagerExists = defineRule({
  id: "workspace-manager-exists",
  description: `Checks that someone's orgRole grants "${Permission.WorkspacesManage}": only organization admins create and delete workspaces.`,
  severity: Severity.Error,
  *check({ model }) {
    const org = model.organization;
    if (!org) return;
    if (org.people.some((p) => permissionsOf(org, p.orgRole)?.includes(Permission.WorkspacesManage))) return;
    yield { path: ["organization", "people"], message: `organization ${quote(org.slug)} must have a person whose orgRole grants "${Permission.WorkspacesManage}"; give someone orgRole: admin` };
  },
});

export const singleWorkspaceMembership = defineRule({
  id: "single-workspace-membership",
  description: "Checks that under `membership: single-workspace` a person belongs to at most one workspace.",
  severity: Severity.Error,
  *check({ model }) {
    if (model.organization?.membership !== MembershipMode.Single) return;
    for (const [, placements] of placementsByPerson(model)) {
      const [first, ...rest] = placements;
      for (const { w, m, email } of rest) {
        yield { path: ["workspaces", w, "members", m, "email"], message: `${quote(email)} must belong to one workspace only (membership: single-workspace); already in ${quote(model.workspaces[first!.w]!.slug)}` };
      }
    }
  },
});

function placementsByPerson(model: TenancyModel) {
  const byPerson = new Map<string, { w: number; m: number; email: string }[]>();
  for (const [w, ws] of model.workspaces.entries()) {
    const here = new Set<string>();
    for (const [m, member] of ws.members.entries()) {
      if (here.has(member.key)) continue; // twice in one workspace is invite-once's concern
      here.add(member.key);
      const list = byPerson.get(member.key) ?? [];
      list.push({ w, m, email: member.email });
      byPerson.set(member.key, list);
    }
  }
  return byPerson;
}
