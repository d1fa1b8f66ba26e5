// The database: its roles hold what grants.ts gives them, and nothing more.
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import { q, requiredAuditor, requiredOn, type CatalogContext } from "./context.ts";

export function checkDatabase({ expected, live, roleOwner, holder, add }: CatalogContext): void {
  const dbRequired = new Set<string>([...expected.workspaces.flatMap((ws) => [...requiredOn(ws.grants, (d) => d.on.kind === "database")]), ...requiredAuditor(expected.auditor, "CONNECT")]);
  for (const e of live.database.acl) {
    const g = roleOwner(e.grantee);
    if ((g.kind !== "workspace" && g.kind !== "auditor") || dbRequired.has(`${e.grantee}\u0001${e.privilege}`) || e.grantee === live.database.owner) continue;
    add(C.unexpected, Id.privilegeUnexpected, g, `database ${q(live.database.name)}`, `${holder(e.grantee)} holds ${e.privilege} on database ${q(live.database.name)}, which components/grants.ts does not grant`);
  }
}
