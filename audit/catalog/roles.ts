// Roles: each declared one exists and logs in as designed; no workspace role nor the auditor
// holds an elevated attribute; a role named like the tenancy's but undeclared is reported.
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import type { LiveRole } from "../live-state.ts";
import { ident, q, type CatalogContext } from "./context.ts";

const ELEVATED = ["superuser", "createrole", "createdb", "replication", "bypassrls"] as const;

export function checkRoles({ expected, live, roles, roleOwner, add }: CatalogContext): void {
  const elevated = (r: LiveRole) => ELEVATED.filter((a) => r[a]).map((a) => a.toUpperCase());
  for (const ws of expected.workspaces) {
    const where = roleOwner(ws.roles[0]!.name);
    for (const r of ws.roles) {
      const found = roles.get(r.name);
      if (!found) { add(C.missing, Id.roleMissing, where, `role ${q(r.name)}`, `the ${r.part} role ${q(r.name)} of workspace ${q(ws.slug)} does not exist`); continue; }
      if (found.login !== r.login) {
        add(C.changed, Id.roleLoginChanged, where, `role ${q(r.name)}`, `role ${q(r.name)} must be ${r.login ? "LOGIN" : "NOLOGIN"}; found ${found.login ? "LOGIN" : "NOLOGIN"}`,
          { declared: r.login ? "LOGIN" : "NOLOGIN", found: found.login ? "LOGIN" : "NOLOGIN" });
      }
    }
  }
  if (!roles.has(expected.auditor)) {
    add(C.missing, Id.roleMissing, { kind: "auditor" }, `role ${q(expected.auditor)}`, `the auditor role ${q(expected.auditor)} does not exist (the control plane makes it on every apply that changes it)`);
  }
  for (const r of live.roles) {
    const owner = roleOwner(r.name);
    if (owner.kind === "other" && r.name.startsWith(expected.prefix)) {
      add(C.unexpected, Id.roleUnexpected, owner, `role ${q(r.name)}`, `role ${q(r.name)} is named like the tenancy's roles but is no workspace's owner, app or read-only role`,
        { remediation: `DROP ROLE ${ident(r.name)};` });
    }
    if (owner.kind !== "workspace" && owner.kind !== "auditor") continue;
    const attrs = elevated(r);
    if (attrs.length > 0) add(C.boundary, Id.roleDangerousAttribute, owner, `role ${q(r.name)}`, `role ${q(r.name)} must hold none of SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS; it has ${attrs.join(", ")}`);
    if (owner.kind === "workspace" && !owner.declared) add(C.unexpected, Id.roleUnexpected, owner, `role ${q(r.name)}`, `role ${q(r.name)} is named like the tenancy's but no declared workspace has it`);
    if (owner.kind === "auditor" && r.login) {
      add(C.changed, Id.roleLoginChanged, owner, `role ${q(r.name)}`, `the auditor role ${q(r.name)} must be NOLOGIN (grant it to a login role); found LOGIN`, { declared: "NOLOGIN", found: "LOGIN" });
    }
  }
}
