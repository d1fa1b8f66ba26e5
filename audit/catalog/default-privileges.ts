// Default privileges: who will get what on objects created later.
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import { BUILTIN_PUBLIC_DEFAULTS, ident, q, requiredOn, type CatalogContext } from "./context.ts";

export function checkDefaultPrivileges({ live, roleOwner, schemaOwner, holder, add: addFinding }: CatalogContext): void {
  for (const d of live.defaultAcls) {
    const forRole = roleOwner(d.role);
    const where = d.schema === undefined ? forRole : schemaOwner(d.schema);
    const object = `default privileges of ${q(d.role)} on ${d.objectType}${d.schema === undefined ? "" : ` in schema ${q(d.schema)}`}`;
    const ws = where.kind === "workspace" ? where : forRole.kind === "workspace" ? forRole : undefined;
    const required = ws?.declared ? requiredOn(ws.declared.grants, (g) => g.on.kind === "default-privileges" && g.on.forRole === d.role && g.on.schema === d.schema && g.on.objectType === d.objectType) : new Set<string>();
    for (const e of d.acl) {
      const remediation = `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(d.role)}${d.schema === undefined ? "" : ` IN SCHEMA ${ident(d.schema)}`} REVOKE ${e.privilege} ON ${d.objectType.toUpperCase()} FROM ${ident(e.grantee)};`;
      const add: typeof addFinding = (cls, id, where, o, message, extra = {}) => addFinding(cls, id, where, o, message, { remediation, ...extra });
      const g = roleOwner(e.grantee);
      if (e.grantee === d.role || g.kind === "admin") continue;
      if (where.kind === "control" && g.kind === "auditor") continue;
      if (g.kind === "public") {
        // Global defaults replacing the built-in ones may still list PUBLIC; the descriptors' revokes judge those.
        if (d.schema === undefined && BUILTIN_PUBLIC_DEFAULTS[d.objectType]) continue;
        if (ws) add(C.boundary, Id.publicGrantInWorkspace, ws, object, `PUBLIC will get ${e.privilege} on ${d.objectType} ${q(d.role)} creates: nothing in workspace ${q(ws.slug)} may be granted to PUBLIC`);
        continue;
      }
      if (ws && g.kind === "workspace" && g.slug === ws.slug) {
        if (ws.declared && !required.has(`${e.grantee}\u0001${e.privilege}`)) add(C.unexpected, Id.privilegeUnexpected, ws, object, `${holder(e.grantee)} will get ${e.privilege} on ${d.objectType} ${q(d.role)} creates, which components/grants.ts does not grant`);
        continue;
      }
      if (ws) add(C.boundary, Id.defaultPrivilegeCrossesBoundary, ws, object, `${holder(e.grantee)} will get ${e.privilege} on ${d.objectType} ${q(d.role)} creates: only workspace ${q(ws.slug)}'s own roles may reach its objects`);
      else if (g.kind === "workspace") add(C.boundary, Id.defaultPrivilegeCrossesBoundary, g, object, `${holder(e.grantee)} will get ${e.privilege} on ${d.objectType} ${q(d.role)} creates${where.kind === "control" ? " in the control plane" : ""}: a workspace role may reach nothing outside its workspace`);
    }
  }
}
