// Large objects live outside every schema: a workspace's roles' large objects granted to a role
// outside the workspace, or a workspace role holding someone else's, cross its boundary.
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import { q, type CatalogContext } from "./context.ts";

export function checkLargeObjects({ live, roleOwner, holder, add }: CatalogContext): void {
  for (const lo of live.server.largeObjects) {
    const owner = roleOwner(lo.owner);
    const grantee = roleOwner(lo.grantee);
    if (grantee.kind === "admin") continue;
    const sameWorkspace = owner.kind === "workspace" && grantee.kind === "workspace" && owner.slug === grantee.slug;
    if (sameWorkspace || (owner.kind !== "workspace" && grantee.kind !== "workspace")) continue;
    const where = owner.kind === "workspace" ? owner : grantee;
    const object = `large objects of ${q(lo.owner)}`;
    add(C.boundary, Id.largeObjectCrossesBoundary, where, object,
      `${holder(lo.grantee)} holds ${lo.privilege} on ${lo.count} large object(s) of ${holder(lo.owner)}: a workspace's large objects are its own roles' only`,
      { remediation: `DO $$ DECLARE o oid; BEGIN FOR o IN SELECT oid FROM pg_catalog.pg_largeobject_metadata WHERE lomowner = ${literal(`"${lo.owner.replace(/"/g, '""')}"`)}::pg_catalog.regrole LOOP EXECUTE pg_catalog.format('REVOKE ALL ON LARGE OBJECT %s FROM %s', o, ${lo.grantee === "PUBLIC" ? "'PUBLIC'" : `pg_catalog.quote_ident(${literal(lo.grantee)})`}); END LOOP; END $$;` });
  }
}

/** A string literal for remediation SQL. */
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;
