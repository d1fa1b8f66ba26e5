// Memberships: a workspace role is a member of nothing outside its workspace; only the admin
// (and nobody else) holds a workspace's roles.
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import { ident, q, type CatalogContext } from "./context.ts";

export function checkMemberships({ live, roleOwner, holder, add: addFinding }: CatalogContext): void {
  for (const m of live.memberships) {
    const role = roleOwner(m.role);
    const member = roleOwner(m.member);
    const object = `membership of ${q(m.member)} in ${q(m.role)}`;
    if (member.kind === "admin") continue;
    const remediation = `REVOKE ${ident(m.role)} FROM ${ident(m.member)};`;
    const add: typeof addFinding = (cls, id, where, o, message, extra = {}) => addFinding(cls, id, where, o, message, { remediation, ...extra });
    if (member.kind === "workspace") {
      if (role.kind === "workspace" && role.slug === member.slug) add(C.unexpected, Id.membershipUnexpected, member, object, `${holder(m.member)} is a member of ${q(m.role)}: a workspace's roles are members of none of its other roles`);
      else add(C.boundary, Id.membershipCrossesBoundary, member, object, `${holder(m.member)} is a member of ${role.kind === "workspace" ? holder(m.role) : q(m.role)}: a workspace role may reach nothing outside its workspace`);
    } else if (member.kind === "auditor") {
      add(role.kind === "workspace" ? C.boundary : C.unexpected, role.kind === "workspace" ? Id.membershipCrossesBoundary : Id.membershipUnexpected, role.kind === "workspace" ? role : member, object,
        `the auditor ${q(m.member)} is a member of ${q(m.role)}: it must read catalogs and the control plane only`);
    } else if (role.kind === "workspace") {
      add(C.boundary, Id.membershipCrossesBoundary, role, object, `${holder(m.member)} is a member of ${holder(m.role)}: only the admin may hold a workspace's roles`);
    }
  }
}
