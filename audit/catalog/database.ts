// The database: owned by the admin, nothing for PUBLIC, its roles hold what grants.ts gives
// them and nothing more; and no other database on the server lets a workspace role connect.
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import { PUBLIC_GRANTEE } from "../live-state.ts";
import { ident, q, requiredAuditor, requiredOn, type CatalogContext } from "./context.ts";

export function checkDatabase({ expected, live, admin, roleOwner, holder, add }: CatalogContext): void {
  const db = live.database;
  const object = `database ${q(db.name)}`;
  if (db.owner !== admin) {
    add(C.boundary, Id.databaseOwnerChanged, { kind: "other" }, object,
      `${object} is owned by ${holder(db.owner)}, not by the admin ${q(admin)} that owns the control plane: its owner connects, creates schemas and grants CONNECT at will`,
      { declared: admin, found: db.owner, remediation: `ALTER DATABASE ${ident(db.name)} OWNER TO ${ident(admin)};` });
  }
  const toPublic = db.acl.filter((e) => e.grantee === PUBLIC_GRANTEE).map((e) => e.privilege);
  if (toPublic.length > 0) {
    add(C.boundary, Id.publicGrantOnDatabase, { kind: "other" }, object,
      `PUBLIC holds ${toPublic.join(", ")} on ${object}: every login on the server may ${toPublic.includes("CONNECT") ? "connect" : "use it"}; the control plane revokes ALL from PUBLIC`,
      { remediation: `REVOKE ALL ON DATABASE ${ident(db.name)} FROM PUBLIC;` });
  }
  const dbRequired = new Set<string>([...expected.workspaces.flatMap((ws) => [...requiredOn(ws.grants, (d) => d.on.kind === "database")]), ...requiredAuditor(expected.auditor, "CONNECT")]);
  for (const e of db.acl) {
    const g = roleOwner(e.grantee);
    if ((g.kind !== "workspace" && g.kind !== "auditor") || dbRequired.has(`${e.grantee}\u0001${e.privilege}`) || e.grantee === db.owner) continue;
    add(C.unexpected, Id.privilegeUnexpected, g, object, `${holder(e.grantee)} holds ${e.privilege} on ${object}, which components/grants.ts does not grant`,
      { remediation: `REVOKE ${e.privilege} ON DATABASE ${ident(db.name)} FROM ${ident(e.grantee)};` });
  }
  for (const other of live.server.databases) {
    if (other.name === db.name) continue;
    for (const e of other.acl) {
      const g = roleOwner(e.grantee);
      // The auditor is one per server: every tenancy database on it grants it CONNECT.
      if (g.kind !== "workspace" || e.privilege !== "CONNECT") continue;
      add(C.unexpected, Id.databaseReachable, g, `database ${q(other.name)}`, `${holder(e.grantee)} may connect to database ${q(other.name)}: a workspace's roles connect to ${q(db.name)} only`,
        { remediation: `REVOKE CONNECT ON DATABASE ${ident(other.name)} FROM ${ident(e.grantee)};` });
    }
  }
}
