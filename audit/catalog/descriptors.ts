// What grants.ts requires (grants) and forbids (revokes), object by object, for each workspace.
import type { GrantDescriptor } from "../../components/grants.ts";
import type { ExpectedWorkspace } from "../expected.ts";
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import { PUBLIC_GRANTEE, type AclEntry, type LiveRole, type LiveState } from "../live-state.ts";
import { BUILTIN_PUBLIC_DEFAULTS, q, TABLE_LIKE, type Add, type CatalogContext, type Index, type Owner } from "./context.ts";

export function checkDescriptors({ expected, live, index, roles, add, roleOwner }: CatalogContext): void {
  for (const ws of expected.workspaces) checkWorkspaceDescriptors(ws, live, index, roles, add, roleOwner(ws.names.app));
}

/** Each grant of grants.ts in effect, each revoke holding. */
function checkWorkspaceDescriptors(ws: ExpectedWorkspace, live: LiveState, index: Index, roles: ReadonlyMap<string, LiveRole>, add: Add, where: Owner): void {
  const schemas = index.schemas;
  const has = (acl: readonly AclEntry[], grantee: string, privilege: string) => acl.some((e) => e.grantee === grantee && e.privilege === privilege);
  const missing = (d: GrantDescriptor, object: string, privileges: readonly string[]) =>
    add(C.missing, Id.privilegeMissing, where, object, `${q(d.role)} must hold ${privileges.join(", ")} on ${object} (grant ${q(d.id)}); it does not`);
  for (const d of ws.grants) {
    if (d.role !== PUBLIC_GRANTEE && !roles.has(d.role)) continue; // reported as a missing role
    const on = d.on;
    if (on.kind === "database") {
      if (on.database !== live.database.name) continue;
      const object = `database ${q(on.database)}`;
      const off = d.privileges.filter((p) => has(live.database.acl, d.role, p) !== (d.action === "grant"));
      if (off.length === 0) continue;
      if (d.action === "grant") missing(d, object, off);
      else add(C.unexpected, Id.privilegeUnexpected, where, object, `PUBLIC holds ${off.join(", ")} on ${object}, which grant ${q(d.id)} revokes`);
    } else if (on.kind === "schema") {
      const s = schemas.get(on.schema);
      if (!s) continue; // reported as a missing schema
      const off = d.privileges.filter((p) => has(s.acl, d.role, p) !== (d.action === "grant"));
      // A PUBLIC privilege on a workspace schema is reported with every other PUBLIC grant.
      if (off.length > 0 && d.action === "grant") missing(d, `schema ${q(on.schema)}`, off);
    } else if (on.kind === "all-tables-in-schema") {
      const except = new Set(on.except ?? []);
      for (const r of index.relationsIn(on.schema).filter((x) => TABLE_LIKE.has(x.kind))) {
        const object = `${r.kind} ${q(`${r.schema}.${r.name}`)}`;
        const held = d.privileges.filter((p) => has(r.acl, d.role, p));
        if (except.has(r.name)) {
          if (held.length > 0 && d.role !== r.owner) add(C.unexpected, Id.privilegeUnexpected, where, object, `${q(d.role)} holds ${held.join(", ")} on ${object}, which grant ${q(d.id)} leaves out`);
        } else if (held.length < d.privileges.length && d.role !== r.owner) {
          missing(d, object, d.privileges.filter((p) => !held.includes(p)));
        }
      }
    } else {
      if (!roles.has(on.forRole)) continue;
      if (on.schema !== undefined && !schemas.has(on.schema)) continue;
      const row = index.defaultAcl(on.forRole, on.schema, on.objectType);
      // No global row: PostgreSQL's built-in defaults apply (PUBLIC may execute functions).
      const acl: AclEntry[] = row ? [...row.acl] : on.schema === undefined
        ? (BUILTIN_PUBLIC_DEFAULTS[on.objectType] ?? []).map((privilege) => ({ grantee: PUBLIC_GRANTEE, privilege, grantable: false, grantor: on.forRole }))
        : [];
      const object = `default privileges of ${q(on.forRole)} on ${on.objectType}${on.schema === undefined ? "" : ` in schema ${q(on.schema)}`}`;
      const off = d.privileges.filter((p) => has(acl, d.role, p) !== (d.action === "grant"));
      if (off.length === 0) continue;
      if (d.action === "grant") missing(d, object, off);
      else add(C.boundary, Id.publicGrantInWorkspace, where, object, `PUBLIC will get ${off.join(", ")} on ${on.objectType} ${q(on.forRole)} creates, which grant ${q(d.id)} revokes`);
    }
  }
}
