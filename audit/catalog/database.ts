// The database: owned by the admin, nothing for PUBLIC, its roles hold what grants.ts gives
// them and nothing more; and no other database on the server lets a workspace role in.
import { FindingClass as C, FindingId as Id } from "../findings.ts";
import { PUBLIC_GRANTEE, type LiveDatabase, type LiveMembership, type LiveRole } from "../live-state.ts";
import { ident, q, requiredAuditor, requiredOn, type CatalogContext, type Owner } from "./context.ts";

export function checkDatabase(ctx: CatalogContext): void {
  const { expected, live, admin, roleOwner, holder, add } = ctx;
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
    checkOtherDatabase(ctx, other);
  }
}

/**
 * A workspace's roles reaching another database of the server, where no boundary of the tenancy
 * applies (they could plant large objects, temporary tables or default privileges there): one
 * boundary finding per workspace and database, naming each role, what it holds and how (granted
 * to it, through PUBLIC, through a membership, as a superuser). Computed from what
 * has_database_privilege says (LiveDatabase.reach), the path from the ACL and the memberships.
 */
function checkOtherDatabase({ live, roles, roleOwner, add }: CatalogContext, other: LiveDatabase): void {
  const byWorkspace = new Map<string, { owner: Owner; held: string[]; fixes: string[]; viaPublic: boolean }>();
  for (const r of other.reach ?? []) {
    const g = roleOwner(r.role);
    if (g.kind !== "workspace") continue;
    const entry = byWorkspace.get(g.slug) ?? { owner: g, held: [], fixes: [], viaPublic: false };
    byWorkspace.set(g.slug, entry);
    const paths = pathsOf(r.role, r.privileges, other, live.memberships, roles);
    entry.held.push(`${q(r.role)} ${r.privileges.join(", ")} (${paths.map((p) => p.how).join("; ")})`);
    for (const p of paths) if (!entry.fixes.includes(p.fix)) entry.fixes.push(p.fix);
    entry.viaPublic ||= paths.some((p) => p.how.startsWith("through PUBLIC"));
  }
  for (const [slug, e] of byWorkspace) {
    const object = `database ${q(other.name)}`;
    // PUBLIC's grant is one statement for every workspace; its owner or a superuser runs it.
    const fixes = [...e.fixes.filter((f) => !f.includes("FROM PUBLIC")), ...e.fixes.filter((f) => f.includes("FROM PUBLIC"))];
    const publicNote = e.viaPublic ? `; PUBLIC's grant lets every login on the server in, and only ${q(other.owner)} (the owner) or a superuser can revoke it` : "";
    add(C.boundary, Id.workspaceReachesOtherDatabase, e.owner, object,
      `roles of workspace ${q(slug)} reach ${object}, where no workspace boundary applies: ${e.held.join(", ")}${publicNote}`,
      { remediation: fixes.join(" ") });
  }
}

interface ReachPath { readonly how: string; readonly fix: string }

/** How `role` holds `privileges` on `db`: every path the catalogs show (direct, PUBLIC, memberships, superuser). */
function pathsOf(role: string, privileges: readonly string[], db: LiveDatabase, memberships: readonly LiveMembership[], roles: ReadonlyMap<string, LiveRole>): ReachPath[] {
  const on = `ON DATABASE ${ident(db.name)}`;
  const given = (grantee: string) => privileges.filter((p) => db.acl.some((e) => e.grantee === grantee && e.privilege === p));
  const paths: ReachPath[] = [];
  const direct = given(role);
  if (direct.length > 0) paths.push({ how: "granted to it", fix: `REVOKE ${direct.join(", ")} ${on} FROM ${ident(role)};` });
  // Inherited through memberships granted WITH INHERIT (per grant since PostgreSQL 16).
  const seen = new Set([role]);
  const queue: { name: string; via: string }[] = [{ name: role, via: "" }];
  while (queue.length > 0) {
    const at = queue.shift()!;
    for (const m of memberships) {
      if (m.member !== at.name || !m.inherit || seen.has(m.role)) continue;
      seen.add(m.role);
      const via = at.via === "" ? m.role : at.via;
      const held = given(m.role);
      if (held.length > 0) paths.push({ how: `through its membership in ${q(m.role)}`, fix: `REVOKE ${ident(via)} FROM ${ident(role)};` });
      queue.push({ name: m.role, via });
    }
  }
  if (given(PUBLIC_GRANTEE).length > 0) paths.push({ how: "through PUBLIC", fix: `REVOKE ${given(PUBLIC_GRANTEE).join(", ")} ${on} FROM PUBLIC;` });
  if (roles.get(role)?.superuser) paths.push({ how: "as a superuser", fix: `ALTER ROLE ${ident(role)} NOSUPERUSER;` });
  if (paths.length === 0) paths.push({ how: "through a path the audit does not trace", fix: `REVOKE ${privileges.join(", ")} ${on} FROM ${ident(role)};` });
  return paths;
}
