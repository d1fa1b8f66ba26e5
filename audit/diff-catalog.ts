// The PostgreSQL half of the diff: schemas, roles, attributes, memberships, privileges and
// default privileges as found, against the boundary components/grants.ts draws. Pure.
//
// Who may hold what on a workspace's objects: its own roles (as grants.ts says for the schema
// and the database; freely on the tables its app owns), the object's owner and the admin that
// manages the tenancy. Anyone else (another workspace's role, the auditor, a role outside the
// tenancy, PUBLIC) opens the boundary. A workspace role may reach nothing outside its
// workspace: the control plane and another workspace are `boundary`, anything else `unexpected`.
import { credentialsTableProblems } from "../components/credentials-table.ts";
import { CONTROL_SCHEMA, CREDENTIALS_TABLE } from "../components/naming.ts";
import type { GrantDescriptor } from "../components/grants.ts";
import type { Path } from "../config/source.ts";
import { strayWorkspace, type Expected, type ExpectedWorkspace } from "./expected.ts";
import { FindingClass as C, FindingId as Id, type Finding } from "./findings.ts";
import { PUBLIC_GRANTEE, type AclEntry, type LiveDefaultAcl, type LiveRole, type LiveState } from "./live-state.ts";

const q = (value: string) => JSON.stringify(value);
const ELEVATED = ["superuser", "createrole", "createdb", "replication", "bypassrls"] as const;
const TABLE_LIKE = new Set(["table", "partitioned table", "view", "materialized view", "foreign table"]);
/** What PostgreSQL gives PUBLIC on future objects when a role has no global default ACL row. */
const BUILTIN_PUBLIC_DEFAULTS: Partial<Record<LiveDefaultAcl["objectType"], readonly string[]>> = { functions: ["EXECUTE"], types: ["USAGE"] };

/** Whose a role or a schema is. */
type Owner =
  | { readonly kind: "workspace"; readonly slug: string; readonly declared?: ExpectedWorkspace }
  | { readonly kind: "public" | "admin" | "auditor" | "control" | "other" };

export interface CatalogDiffOptions {
  /** The role that manages the tenancy (holds the workspace roles, may hold anything). Default: the database's owner. */
  readonly admin?: string;
}

export function diffCatalog(expected: Expected, live: LiveState, options: CatalogDiffOptions = {}): Finding[] {
  const admin = options.admin ?? live.database.owner;
  const { prefix } = expected;
  const findings: Finding[] = [];
  const roleOf = new Map<string, ExpectedWorkspace>();
  const schemaOf = new Map<string, ExpectedWorkspace>();
  for (const ws of expected.workspaces) {
    for (const r of ws.roles) roleOf.set(r.name, ws);
    schemaOf.set(ws.names.schema, ws);
  }
  const roleOwner = (name: string): Owner => {
    if (name === PUBLIC_GRANTEE) return { kind: "public" };
    if (name === admin) return { kind: "admin" };
    if (name === expected.auditor) return { kind: "auditor" };
    const declared = roleOf.get(name);
    if (declared) return { kind: "workspace", slug: declared.slug, declared };
    if (name.startsWith(prefix)) return { kind: "workspace", slug: strayWorkspace(prefix, name) };
    return { kind: "other" };
  };
  const schemaOwner = (name: string): Owner => {
    if (name === CONTROL_SCHEMA) return { kind: "control" };
    const declared = schemaOf.get(name);
    if (declared) return { kind: "workspace", slug: declared.slug, declared };
    if (name.startsWith(prefix)) return { kind: "workspace", slug: strayWorkspace(prefix, name) };
    return { kind: "other" };
  };
  const pathOf = (o: Owner): Path => (o.kind === "workspace" ? (o.declared ? ["workspaces", o.declared.index, "slug"] : ["workspaces"]) : ["organization", "slug"]);
  const add = (cls: Finding["class"], id: string, where: Owner, object: string, message: string, extra: Pick<Finding, "declared" | "found"> = {}) =>
    findings.push({ class: cls, id, ...(where.kind === "workspace" ? { workspace: where.slug } : {}), object, message, ...extra, path: pathOf(where) });

  // Roles: declared ones exist, log in as designed, hold nothing elevated; stray ones are reported.
  const roles = new Map(live.roles.map((r) => [r.name, r]));
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
    if (owner.kind !== "workspace" && owner.kind !== "auditor") continue;
    const attrs = elevated(r);
    if (attrs.length > 0) add(C.boundary, Id.roleDangerousAttribute, owner, `role ${q(r.name)}`, `role ${q(r.name)} must hold none of SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS; it has ${attrs.join(", ")}`);
    if (owner.kind === "workspace" && !owner.declared) add(C.unexpected, Id.roleUnexpected, owner, `role ${q(r.name)}`, `role ${q(r.name)} is named like the tenancy's but no declared workspace has it`);
    if (owner.kind === "auditor" && r.login) {
      add(C.changed, Id.roleLoginChanged, owner, `role ${q(r.name)}`, `the auditor role ${q(r.name)} must be NOLOGIN (grant it to a login role); found LOGIN`, { declared: "NOLOGIN", found: "LOGIN" });
    }
  }

  // Schemas: declared ones exist with their owner role; stray ones are reported.
  const schemas = new Map(live.schemas.map((s) => [s.name, s]));
  for (const ws of expected.workspaces) {
    const s = schemas.get(ws.names.schema);
    const where = schemaOwner(ws.names.schema);
    if (!s) add(C.missing, Id.schemaMissing, where, `schema ${q(ws.names.schema)}`, `the schema ${q(ws.names.schema)} of workspace ${q(ws.slug)} does not exist`);
    else if (s.owner !== ws.names.owner) {
      add(C.changed, Id.schemaOwnerChanged, where, `schema ${q(s.name)}`, `schema ${q(s.name)} must be owned by ${q(ws.names.owner)}; found ${q(s.owner)}`, { declared: ws.names.owner, found: s.owner });
    }
  }
  for (const s of live.schemas) {
    const owner = schemaOwner(s.name);
    if (owner.kind === "workspace" && !owner.declared) add(C.unexpected, Id.schemaUnexpected, owner, `schema ${q(s.name)}`, `schema ${q(s.name)} is named like a workspace's but no declared workspace has it`);
  }

  // What grants.ts requires (grants) and forbids (revokes), object by object.
  const index = indexOf(live);
  for (const ws of expected.workspaces) checkDescriptors(ws, live, index, roles, add, roleOwner(ws.names.app));

  // The sealed-credentials table each boundary makes: there, and the plain table, owned by the
  // workspace's owner role, that the provider agrees to write (components/credentials-table.ts).
  for (const ws of expected.workspaces) {
    if (!schemas.has(ws.names.schema)) continue;
    const where = schemaOwner(ws.names.schema);
    const object = `table ${q(`${ws.names.schema}.${CREDENTIALS_TABLE}`)}`;
    const table = index.relationsIn(ws.names.schema).find((r) => r.name === CREDENTIALS_TABLE);
    if (!table) { add(C.missing, Id.credentialsTableMissing, where, object, `the sealed-credentials table ${object} of workspace ${q(ws.slug)} does not exist`); continue; }
    const problems = table.credentials ? credentialsTableProblems(table.credentials, ws.names.owner) : [];
    if (problems.length > 0) {
      add(C.changed, Id.credentialsTableChanged, where, object, `${object} must be the toolkit's plain table owned by ${q(ws.names.owner)}, which the provider refuses to use otherwise; ${problems.join("; ")}`,
        { declared: `plain table owned by ${ws.names.owner}`, found: problems });
    }
  }

  // Every privilege found on a workspace's or the control plane's objects, and every one a
  // tenancy role holds elsewhere.
  const reach = (objectOwner: string, where: Owner, object: string, entry: AclEntry | { grantee: string; privilege: string }, expectedInside: (g: string, p: string) => boolean) => {
    const g = roleOwner(entry.grantee);
    const what = `${entry.privilege} on ${object}`;
    if (entry.grantee === objectOwner || g.kind === "admin") return;
    if (where.kind === "control") {
      if (g.kind === "auditor" && expectedInside(entry.grantee, entry.privilege)) return;
      if (g.kind === "public" || g.kind === "workspace") add(C.boundary, Id.controlPlaneReachable, g.kind === "workspace" ? g : where, object, `${holder(entry.grantee)} holds ${what}: no workspace role and not PUBLIC may reach the control plane`);
      else if (g.kind === "auditor") add(C.unexpected, Id.privilegeUnexpected, where, object, `the auditor ${q(entry.grantee)} holds ${what}; it needs USAGE on the schema and SELECT on its tables only`);
      return;
    }
    if (where.kind === "workspace") {
      if (g.kind === "public") { add(C.boundary, Id.publicGrantInWorkspace, where, object, `PUBLIC holds ${what}: nothing in workspace ${q(where.slug)} may be granted to PUBLIC`); return; }
      if (g.kind === "workspace" && g.slug === where.slug) {
        if (where.declared && !expectedInside(entry.grantee, entry.privilege)) add(C.unexpected, Id.privilegeUnexpected, where, object, `${holder(entry.grantee)} holds ${what}, which components/grants.ts does not grant`);
        return;
      }
      add(C.boundary, Id.grantCrossesBoundary, where, object, `${holder(entry.grantee)} holds ${what}: only workspace ${q(where.slug)}'s own roles may reach its objects`);
      return;
    }
    // Outside the tenancy: only a workspace role or the auditor reaching it is ours to report.
    if (g.kind === "workspace" || g.kind === "auditor") add(C.unexpected, Id.privilegeUnexpected, g, object, `${holder(entry.grantee)} holds ${what}, outside its workspace`);
  };
  const holder = (name: string) => {
    const g = roleOwner(name);
    if (g.kind === "public") return "PUBLIC";
    if (g.kind === "workspace") return `role ${q(name)} of workspace ${q(g.slug)}`;
    if (g.kind === "auditor") return `the auditor ${q(name)}`;
    return `role ${q(name)} (outside the tenancy)`;
  };

  for (const s of live.schemas) {
    const where = schemaOwner(s.name);
    const required = where.kind === "workspace" && where.declared ? requiredOn(where.declared.grants, (d) => d.on.kind === "schema") : requiredAuditor(expected.auditor, "USAGE");
    for (const e of s.acl) reach(s.owner, where, `schema ${q(s.name)}`, e, (g, p) => required.has(`${g}\u0001${p}`));
  }
  for (const r of live.relations) {
    const where = schemaOwner(r.schema);
    const object = `${r.kind} ${q(`${r.schema}.${r.name}`)}`;
    ownerCheck(r.owner, where, object);
    // Inside a workspace, its own roles may hold anything on the tables its app owns; what
    // grants.ts keeps from one of them (its `except` tables) is checked with the descriptors.
    const inside = where.kind === "control" ? (g: string, p: string) => g === expected.auditor && p === "SELECT" && TABLE_LIKE.has(r.kind) : () => true;
    for (const e of r.acl) reach(r.owner, where, object, e, inside);
    for (const e of r.columnAcl) reach(r.owner, where, `column ${q(e.column)} of ${object}`, e, inside);
  }
  for (const f of live.functions) {
    const where = schemaOwner(f.schema);
    const object = `function ${q(`${f.schema}.${f.signature}`)}`;
    ownerCheck(f.owner, where, object);
    for (const e of f.acl) reach(f.owner, where, object, e, () => true);
  }
  function ownerCheck(owner: string, where: Owner, object: string) {
    if (where.kind !== "workspace") return;
    const o = roleOwner(owner);
    if (o.kind === "admin" || (o.kind === "workspace" && o.slug === where.slug)) return;
    add(C.boundary, Id.ownerOutsideWorkspace, where, object, `${object} is owned by ${holder(owner)}: objects in workspace ${q(where.slug)} must be owned by its own roles`);
  }

  // Default privileges: who will get what on objects created later.
  for (const d of live.defaultAcls) {
    const forRole = roleOwner(d.role);
    const where = d.schema === undefined ? forRole : schemaOwner(d.schema);
    const object = `default privileges of ${q(d.role)} on ${d.objectType}${d.schema === undefined ? "" : ` in schema ${q(d.schema)}`}`;
    const ws = where.kind === "workspace" ? where : forRole.kind === "workspace" ? forRole : undefined;
    const required = ws?.declared ? requiredOn(ws.declared.grants, (g) => g.on.kind === "default-privileges" && g.on.forRole === d.role && g.on.schema === d.schema && g.on.objectType === d.objectType) : new Set<string>();
    for (const e of d.acl) {
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

  // The database: its roles hold what grants.ts gives them, and nothing more.
  const dbRequired = new Set<string>([...expected.workspaces.flatMap((ws) => [...requiredOn(ws.grants, (d) => d.on.kind === "database")]), ...requiredAuditor(expected.auditor, "CONNECT")]);
  for (const e of live.database.acl) {
    const g = roleOwner(e.grantee);
    if ((g.kind !== "workspace" && g.kind !== "auditor") || dbRequired.has(`${e.grantee}\u0001${e.privilege}`) || e.grantee === live.database.owner) continue;
    add(C.unexpected, Id.privilegeUnexpected, g, `database ${q(live.database.name)}`, `${holder(e.grantee)} holds ${e.privilege} on database ${q(live.database.name)}, which components/grants.ts does not grant`);
  }

  // Memberships: a workspace role is a member of nothing outside its workspace; only the admin
  // (and nobody else) holds a workspace's roles.
  for (const m of live.memberships) {
    const role = roleOwner(m.role);
    const member = roleOwner(m.member);
    const object = `membership of ${q(m.member)} in ${q(m.role)}`;
    if (member.kind === "admin") continue;
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
  return findings;
}

type Add = (cls: Finding["class"], id: string, where: Owner, object: string, message: string, extra?: Pick<Finding, "declared" | "found">) => void;

/** `grantee\u0001privilege` pairs the grants (not revokes) among `descriptors` matching `which` give. */
function requiredOn(descriptors: readonly GrantDescriptor[], which: (d: GrantDescriptor) => boolean): Set<string> {
  return new Set(descriptors.filter((d) => d.action === "grant" && which(d)).flatMap((d) => d.privileges.map((p) => `${d.role}\u0001${p}`)));
}

function requiredAuditor(auditor: string, privilege: string): Set<string> {
  return new Set([`${auditor}\u0001${privilege}`]);
}

interface Index {
  readonly schemas: ReadonlyMap<string, LiveState["schemas"][number]>;
  readonly relationsIn: (schema: string) => readonly LiveState["relations"][number][];
  readonly defaultAcl: (role: string, schema: string | undefined, type: string) => LiveDefaultAcl | undefined;
}

/** Lookups by name, built once: the diff stays linear in the size of the tenancy. */
function indexOf(live: LiveState): Index {
  const relations = new Map<string, LiveState["relations"][number][]>();
  for (const r of live.relations) relations.set(r.schema, [...(relations.get(r.schema) ?? []), r]);
  const key = (role: string, schema: string | undefined, type: string) => `${role}\u0001${schema ?? ""}\u0001${type}`;
  const defaults = new Map(live.defaultAcls.map((d) => [key(d.role, d.schema, d.objectType), d]));
  return {
    schemas: new Map(live.schemas.map((s) => [s.name, s])),
    relationsIn: (schema) => relations.get(schema) ?? [],
    defaultAcl: (role, schema, type) => defaults.get(key(role, schema, type)),
  };
}

/** Each grant of grants.ts in effect, each revoke holding. */
function checkDescriptors(ws: ExpectedWorkspace, live: LiveState, index: Index, roles: ReadonlyMap<string, LiveRole>, add: Add, where: Owner): void {
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
