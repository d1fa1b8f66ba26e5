// Every privilege found on a workspace's or the control plane's objects (schemas, relations,
// columns, functions) and every one a tenancy role holds elsewhere; and who owns a workspace's
// objects.
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import type { AclEntry } from "../live-state.ts";
import { ident, q, requiredAuditor, requiredOn, TABLE_LIKE, type CatalogContext, type Owner } from "./context.ts";

export function checkPrivileges(ctx: CatalogContext): void {
  const { expected, live, roleOwner, schemaOwner, holder, add } = ctx;
  /** `on`: the object as REVOKE names it (`SCHEMA "s"`, `TABLE "s"."t"`, ...); `column`: for a column privilege. */
  const reach = (objectOwner: string, where: Owner, object: string, entry: AclEntry & { column?: string }, expectedInside: (g: string, p: string) => boolean, on: string) => {
    const g = roleOwner(entry.grantee);
    const what = `${entry.privilege} on ${object}`;
    const remediation = `REVOKE ${entry.privilege}${entry.column === undefined ? "" : ` (${ident(entry.column)})`} ON ${on} FROM ${ident(entry.grantee)};`;
    if (entry.grantee === objectOwner || g.kind === "admin") return;
    if (where.kind === "control") {
      if (g.kind === "auditor" && expectedInside(entry.grantee, entry.privilege)) return;
      if (g.kind === "auditor") add(C.unexpected, Id.privilegeUnexpected, where, object, `the auditor ${q(entry.grantee)} holds ${what}; it needs USAGE on the schema and SELECT on its tables only`, { remediation });
      // A workspace's role, PUBLIC or any other role: only the admin and the auditor reach the control plane.
      else add(C.boundary, Id.controlPlaneReachable, g.kind === "workspace" ? g : where, object, `${holder(entry.grantee)} holds ${what}: only the admin and the auditor may reach the control plane`, { remediation });
      return;
    }
    if (where.kind === "workspace") {
      if (g.kind === "public") { add(C.boundary, Id.publicGrantInWorkspace, where, object, `PUBLIC holds ${what}: nothing in workspace ${q(where.slug)} may be granted to PUBLIC`, { remediation }); return; }
      if (g.kind === "workspace" && g.slug === where.slug) {
        if (where.declared && !expectedInside(entry.grantee, entry.privilege)) add(C.unexpected, Id.privilegeUnexpected, where, object, `${holder(entry.grantee)} holds ${what}, which components/grants.ts does not grant`, { remediation });
        return;
      }
      add(C.boundary, Id.grantCrossesBoundary, where, object, `${holder(entry.grantee)} holds ${what}: only workspace ${q(where.slug)}'s own roles may reach its objects`, { remediation });
      return;
    }
    // Outside the tenancy: only a workspace role or the auditor reaching it is ours to report.
    if (g.kind === "workspace" || g.kind === "auditor") add(C.unexpected, Id.privilegeUnexpected, g, object, `${holder(entry.grantee)} holds ${what}, outside its workspace`, { remediation });
  };
  /** `alter`: the object as ALTER ... OWNER TO names it (`TABLE "s"."t"`, `FUNCTION "s"."f"(int)`). */
  const ownerCheck = (owner: string, where: Owner, object: string, alter: string) => {
    if (where.kind !== "workspace") return;
    const o = roleOwner(owner);
    if (o.kind === "admin" || (o.kind === "workspace" && o.slug === where.slug)) return;
    add(C.boundary, Id.ownerOutsideWorkspace, where, object, `${object} is owned by ${holder(owner)}: objects in workspace ${q(where.slug)} must be owned by its own roles`,
      where.declared ? { remediation: `ALTER ${alter} OWNER TO ${ident(where.declared.names.owner)};` } : {});
  };

  for (const s of live.schemas) {
    const where = schemaOwner(s.name);
    const required = where.kind === "workspace" && where.declared ? requiredOn(where.declared.grants, (d) => d.on.kind === "schema") : requiredAuditor(expected.auditor, "USAGE");
    for (const e of s.acl) reach(s.owner, where, `schema ${q(s.name)}`, e, (g, p) => required.has(`${g}\u0001${p}`), `SCHEMA ${ident(s.name)}`);
  }
  for (const r of live.relations) {
    const where = schemaOwner(r.schema);
    const object = `${r.kind} ${q(`${r.schema}.${r.name}`)}`;
    const on = `${r.kind === "sequence" ? "SEQUENCE" : "TABLE"} ${ident(r.schema)}.${ident(r.name)}`;
    ownerCheck(r.owner, where, object, on);
    // Inside a workspace, its own roles may hold anything on the tables its app owns; what
    // grants.ts keeps from one of them (its `except` tables) is checked with the descriptors.
    const inside = where.kind === "control" ? (g: string, p: string) => g === expected.auditor && p === "SELECT" && TABLE_LIKE.has(r.kind) : () => true;
    for (const e of r.acl) reach(r.owner, where, object, e, inside, on);
    for (const e of r.columnAcl) reach(r.owner, where, `column ${q(e.column)} of ${object}`, e, inside, on);
  }
  for (const f of live.functions) {
    const where = schemaOwner(f.schema);
    const object = `function ${q(`${f.schema}.${f.signature}`)}`;
    const paren = f.signature.indexOf("(");
    const fn = `FUNCTION ${ident(f.schema)}.${ident(f.signature.slice(0, paren))}${f.signature.slice(paren)}`;
    ownerCheck(f.owner, where, object, fn);
    for (const e of f.acl) reach(f.owner, where, object, e, () => true, fn);
  }
}
