// Effective access, from every role on the server: for each workspace (its schema, tables,
// sealed credentials) and the control plane, who can reach it and through what chain. Pure:
// computed from the catalogs one snapshot read (audit/read-postgres.ts), with no query per
// role or workspace.
//
// A role reaches what it holds itself, and what every role it is a member of holds (a chain of
// pg_auth_members grants with INHERIT, SET or ADMIN OPTION: SET ROLE, or granting itself the
// role, reaches it as surely as inheriting it). What a role holds on a target: ownership of the
// schema or of a relation in it, ACL entries on the schema, relations and columns, default
// privileges on its future tables, grants on large objects its roles own, pg_read_all_data and
// pg_write_all_data, and SUPERUSER. PUBLIC is a column of its own (its grants are not repeated
// in every role's cell). The database's owner holds pg_database_owner.
//
// Declared: the bootstrap superuser and the admin reach everything; a workspace's own roles
// reach it; any role may hold the auditor, which reads the control plane. Anything else a
// LOGIN role reaches through a membership is a finding naming the role and the chain. What a
// role holds itself (a grant, an ownership, a default privilege, a large object) is reported
// by the check of that kind (audit/catalog/*.ts), with its remediation.
import { CONTROL_SCHEMA, CREDENTIALS_TABLE } from "../components/naming.ts";
import { adminOf, ident, q, type CatalogDiffOptions } from "./catalog/context.ts";
import { strayWorkspace, type Expected } from "./expected.ts";
import { FindingClass as C, FindingId as Id, type Finding } from "./findings.ts";
import { PUBLIC_GRANTEE, type LiveMembership, type LiveState } from "./live-state.ts";

/** Who reaches one target, and how. */
export interface AccessCell {
  /** A role name, or `PUBLIC`. */
  readonly role: string;
  /** Every path is one the declaration draws (see the module comment). */
  readonly declared: boolean;
  /** What it may do on the schema and its relations: OWNER, SUPERUSER, USAGE, CREATE, SELECT, ..., `SELECT (column)`, `future SELECT on tables`, `SELECT on large objects`. */
  readonly privileges: readonly string[];
  /** What it may do on the sealed-credentials table (workspaces only). */
  readonly credentials: readonly string[];
  /** The shortest chains, e.g. `evil → tenancy_admin (member) → superuser`; at most three. */
  readonly paths: readonly string[];
  /** Ids of the findings this cell raised. */
  readonly findings: readonly string[];
  /** Each way it reaches: the roles from this one to the holder, with what it holds that way. */
  readonly routes: readonly AccessRoute[];
}

export interface AccessRoute {
  /** Role names: this cell's role first, the holder last (one name: it holds it itself). */
  readonly hops: readonly string[];
  readonly privileges: readonly string[];
  readonly declared: boolean;
  readonly findings: readonly string[];
}

export interface AccessRow {
  /** `workspace:<slug>` or `control-plane`. */
  readonly target: string;
  readonly kind: "workspace" | "control-plane";
  readonly workspace?: string;
  readonly schema: string;
  /** False for a schema named like a workspace the declaration lacks: nobody's access to it is declared. */
  readonly declared: boolean;
  /** One per role reaching it, declared or not; by role name. */
  readonly cells: readonly AccessCell[];
}

export const AccessRoleKind = {
  bootstrap: "bootstrap-superuser", admin: "admin", auditor: "auditor", workspace: "workspace", public: "public", outside: "outside",
} as const;
export type AccessRoleKind = (typeof AccessRoleKind)[keyof typeof AccessRoleKind];

/** A column of the matrix: a role that reaches at least one target. */
export interface AccessRole {
  readonly name: string;
  readonly kind: AccessRoleKind;
  readonly login: boolean;
  readonly superuser: boolean;
  readonly bypassrls: boolean;
  /** May connect to the audited database (itself, a role it reaches, PUBLIC, or superuser). */
  readonly connect: boolean;
}

export interface AccessMatrix {
  readonly roles: readonly AccessRole[];
  /** Workspaces in declaration order, then the control plane. */
  readonly rows: readonly AccessRow[];
}

interface Holding {
  readonly privilege: string;
  readonly credentials: boolean;
  /** How the holder holds it, e.g. `owner of schema acme__us_sales`. */
  readonly how: string;
}

interface Target {
  readonly key: string;
  readonly kind: AccessRow["kind"];
  readonly workspace?: string;
  readonly schema: string;
  /** Roles that may hold things here by design (a workspace's own roles). */
  readonly own: ReadonlySet<string>;
  readonly declared: boolean;
}

const ALL_REACHING_PREDEFINED: Readonly<Record<string, readonly string[]>> = {
  pg_read_all_data: ["USAGE", "SELECT"],
  pg_write_all_data: ["USAGE", "INSERT", "UPDATE", "DELETE"],
};

/** The label of one membership hop, or undefined when it gives nothing (no INHERIT, SET nor ADMIN OPTION). */
function hopLabel(m: Pick<LiveMembership, "admin" | "inherit" | "set">): string | undefined {
  if (m.inherit || m.set) return [m.inherit ? "member" : "SET ROLE only", m.inherit && !m.set ? "no SET" : "", m.admin ? "with ADMIN OPTION" : ""].filter(Boolean).join(", ");
  return m.admin ? "ADMIN OPTION only: can grant itself" : undefined;
}

interface Reached { readonly via: string | undefined; readonly label: string; readonly depth: number }

export interface AccessResult {
  readonly matrix: AccessMatrix;
  readonly findings: Finding[];
}

export function effectiveAccess(expected: Expected, live: LiveState, options: CatalogDiffOptions = {}): AccessResult {
  const admin = adminOf(live, options);
  const bootstrap = live.server.bootstrapSuperuser;
  const roles = new Map(live.roles.map((r) => [r.name, r]));

  // Membership edges, member -> role; the database's owner holds pg_database_owner.
  const edges = new Map<string, { role: string; label: string }[]>();
  // Pushed, not spread: the admin holds three roles per workspace (3,000 edges at 1,000 workspaces).
  const edge = (member: string, role: string, label: string) => {
    const list = edges.get(member);
    if (list) list.push({ role, label });
    else edges.set(member, [{ role, label }]);
  };
  for (const m of live.memberships) {
    const label = hopLabel(m);
    if (label) edge(m.member, m.role, label);
  }
  if (roles.has("pg_database_owner")) edge(live.database.owner, "pg_database_owner", "database owner");

  // Targets and what each role holds on each, directly.
  const targets: Target[] = [
    ...expected.workspaces.map((ws): Target => ({ key: `workspace:${ws.slug}`, kind: "workspace", workspace: ws.slug, schema: ws.names.schema, own: new Set(ws.roles.map((r) => r.name)), declared: true })),
    // A schema named like a workspace the declaration lacks: shown, with nobody's access declared.
    ...live.schemas.filter((s) => s.name.startsWith(expected.prefix) && !expected.workspaces.some((w) => w.names.schema === s.name))
      .map((s): Target => ({ key: `workspace:${strayWorkspace(expected.prefix, s.name)}`, kind: "workspace", workspace: strayWorkspace(expected.prefix, s.name), schema: s.name, own: new Set(), declared: false })),
    { key: "control-plane", kind: "control-plane", schema: CONTROL_SCHEMA, own: new Set(), declared: true },
  ];
  const bySchema = new Map(targets.map((t) => [t.schema, t]));
  const byOwnRole = new Map(targets.flatMap((t) => [...t.own].map((r) => [r, t] as const)));
  const held = new Map<string, Map<Target, Holding[]>>();
  const hold = (role: string, t: Target, h: Holding) => {
    const perTarget = held.get(role) ?? new Map<Target, Holding[]>();
    held.set(role, perTarget);
    const list = perTarget.get(t);
    if (list) list.push(h);
    else perTarget.set(t, [h]);
  };
  for (const s of live.schemas) {
    const t = bySchema.get(s.name);
    if (!t) continue;
    hold(s.owner, t, { privilege: "OWNER", credentials: false, how: `owner of schema ${s.name}` });
    for (const e of s.acl) if (e.grantee !== s.owner) hold(e.grantee, t, { privilege: e.privilege, credentials: false, how: `${e.privilege} on schema ${s.name}` });
  }
  for (const r of live.relations) {
    const t = bySchema.get(r.schema);
    if (!t) continue;
    const credentials = t.kind === "workspace" && r.name === CREDENTIALS_TABLE;
    const name = `${r.schema}.${r.name}`;
    hold(r.owner, t, { privilege: "OWNER", credentials, how: `owner of ${r.kind} ${name}` });
    for (const e of r.acl) if (e.grantee !== r.owner) hold(e.grantee, t, { privilege: e.privilege, credentials, how: `${e.privilege} on ${r.kind} ${name}` });
    for (const e of r.columnAcl) if (e.grantee !== r.owner) hold(e.grantee, t, { privilege: `${e.privilege} (${e.column})`, credentials, how: `${e.privilege} on column ${e.column} of ${r.kind} ${name}` });
  }
  for (const d of live.defaultAcls) {
    if (d.objectType !== "tables" && d.objectType !== "sequences") continue;
    const t = d.schema === undefined ? byOwnRole.get(d.role) : bySchema.get(d.schema);
    if (!t) continue;
    for (const e of d.acl) {
      if (e.grantee === d.role) continue;
      hold(e.grantee, t, { privilege: `future ${e.privilege} on ${d.objectType}`, credentials: false, how: `default privileges of ${d.role} give it ${e.privilege} on future ${d.objectType}` });
    }
  }
  for (const lo of live.server.largeObjects) {
    const t = byOwnRole.get(lo.owner);
    if (t) hold(lo.grantee, t, { privilege: `${lo.privilege} on large objects`, credentials: false, how: `${lo.privilege} on ${lo.count} large object(s) of ${lo.owner}` });
  }
  const everywhere = new Map<string, Holding[]>();
  for (const [role, privileges] of Object.entries(ALL_REACHING_PREDEFINED)) {
    if (roles.has(role)) everywhere.set(role, privileges.map((privilege) => ({ privilege, credentials: privilege !== "USAGE", how: `${privilege} on every ${privilege === "USAGE" ? "schema" : "table"}` })));
  }
  for (const r of live.roles) if (r.superuser) everywhere.set(r.name, [{ privilege: "SUPERUSER", credentials: true, how: "superuser" }]);

  // Who each role reaches: breadth first, so each role's chain is a shortest one.
  const reach = (start: string): Map<string, Reached> => {
    const seen = new Map<string, Reached>([[start, { via: undefined, label: "", depth: 0 }]]);
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      const at = queue[i]!;
      for (const e of edges.get(at) ?? []) {
        if (seen.has(e.role)) continue;
        seen.set(e.role, { via: at, label: e.label, depth: seen.get(at)!.depth + 1 });
        queue.push(e.role);
      }
    }
    return seen;
  };
  const chainTo = (seen: Map<string, Reached>, role: string): string[] => {
    const hops: string[] = [];
    for (let at: string | undefined = role; at !== undefined; at = seen.get(at)!.via) {
      const r = seen.get(at)!;
      hops.unshift(r.via === undefined ? at : `${at} (${r.label})`);
    }
    return hops;
  };

  const declaredFor = (role: string, holder: string, t: Target, h: Holding) => {
    if (!t.declared) return false;
    if (role === bootstrap || role === admin) return true;
    if (t.kind === "workspace") return role === holder && t.own.has(holder);
    // The auditor reads the control plane: USAGE on its schema, SELECT on its tables, now and future.
    return holder === expected.auditor && ((h.privilege === "USAGE" && h.how.endsWith(`schema ${CONTROL_SCHEMA}`)) || h.privilege === "SELECT" || h.privilege === "future SELECT on tables");
  };

  interface Route { hops: string[]; privileges: Set<string>; declared: boolean; findings: Set<string>; depth: number }
  interface Building { declared: boolean; privileges: Set<string>; credentials: Set<string>; paths: Map<string, number>; findings: Set<string>; routes: Map<string, Route> }
  const cells = new Map<Target, Map<string, Building>>(targets.map((t) => [t, new Map()]));
  const findings: Finding[] = [];
  const pathOf = (t: Target): Finding["path"] => {
    const ws = expected.workspaces.find((w) => w.slug === t.workspace);
    return ws ? ["workspaces", ws.index, "slug"] : ["organization", "slug"];
  };
  const canConnect = new Map<string, boolean>();
  const connectors = new Set(live.database.acl.filter((e) => e.privilege === "CONNECT").map((e) => e.grantee));

  // Predefined roles (pg_*) are no column of their own: whoever holds one is, with the chain.
  // Every role, and any holder the catalogs name without a pg_roles row (a hand-made state).
  const everyone = new Set([...live.roles.map((r) => r.name), ...held.keys()]);
  everyone.delete(PUBLIC_GRANTEE);
  for (const name of [...[...everyone].filter((r) => !r.startsWith("pg_")), PUBLIC_GRANTEE]) {
    const seen = name === PUBLIC_GRANTEE ? new Map<string, Reached>([[PUBLIC_GRANTEE, { via: undefined, label: "", depth: 0 }]]) : reach(name);
    const login = roles.get(name)?.login ?? false;
    canConnect.set(name, [...seen.keys()].some((r) => connectors.has(r) || roles.get(r)?.superuser) || connectors.has(PUBLIC_GRANTEE));
    const allReaching = new Map<string, string[]>();
    const beyond = new Map<Target, { chain: string[]; privileges: Set<string>; holder: string }>();
    for (const [holder, r] of seen) {
      const perTarget: [Target, Holding[]][] = everywhere.has(holder) ? targets.map((t) => [t, everywhere.get(holder)!]) : [...(held.get(holder) ?? new Map()).entries()];
      if (perTarget.length === 0) continue;
      const chain = chainTo(seen, holder);
      for (const [t, holdings] of perTarget) {
        const row = cells.get(t)!;
        const cell = row.get(name) ?? { declared: true, privileges: new Set(), credentials: new Set(), paths: new Map(), findings: new Set(), routes: new Map() };
        row.set(name, cell);
        const hops = hopsTo(seen, holder);
        const route = cell.routes.get(hops.join("\u0001")) ?? { hops, privileges: new Set<string>(), declared: true, findings: new Set<string>(), depth: r.depth };
        cell.routes.set(hops.join("\u0001"), route);
        for (const h of holdings) {
          const declared = declaredFor(name, holder, t, h);
          cell.declared &&= declared;
          route.declared &&= declared;
          route.privileges.add(h.privilege);
          cell.privileges.add(h.privilege);
          if (h.credentials) cell.credentials.add(h.privilege);
          cell.paths.set([...chain, h.how].join(" → "), r.depth);
          // A LOGIN role reaching through a membership what the declaration does not give it.
          if (declared || !login || holder === name || roles.get(name)?.superuser) continue;
          if (everywhere.has(holder) || holder === admin) {
            allReaching.set(holder, chain);
            cell.findings.add(Id.accessToEveryWorkspace);
            route.findings.add(Id.accessToEveryWorkspace);
          } else if (passesThrough(seen, holder, admin)) {
            allReaching.set(admin, chainTo(seen, admin));
            cell.findings.add(Id.accessToEveryWorkspace);
            route.findings.add(Id.accessToEveryWorkspace);
          } else {
            const b = beyond.get(t) ?? { chain: [...chain, h.how], privileges: new Set<string>(), holder };
            b.privileges.add(h.privilege);
            beyond.set(t, b);
            cell.findings.add(Id.accessBeyondDeclared);
            route.findings.add(Id.accessBeyondDeclared);
          }
        }
      }
    }
    // The admin reaches every target through the roles it holds, not by a holding of its own.
    if (login && name !== admin && name !== bootstrap && !roles.get(name)?.superuser && seen.has(admin) && !allReaching.has(admin)) allReaching.set(admin, chainTo(seen, admin));
    for (const [holder, chain] of allReaching) {
      const what = holder === admin ? `the admin ${q(admin)}` : everywhere.get(holder)![0]!.privilege === "SUPERUSER" ? `the superuser ${q(holder)}` : `the predefined role ${q(holder)}`;
      findings.push({
        class: C.boundary, id: Id.accessToEveryWorkspace, object: `role ${q(name)}`,
        message: `login role ${q(name)} reaches ${what}, and so every workspace and the control plane: ${chain.join(" → ")}`,
        chain: chain.join(" → "), remediation: revokeLastHop(chain), path: ["organization", "slug"],
      });
    }
    for (const [t, b] of beyond) {
      const where = t.kind === "workspace" ? `workspace ${q(t.workspace!)}` : "the control plane";
      findings.push({
        class: C.boundary, id: Id.accessBeyondDeclared, ...(t.workspace === undefined ? {} : { workspace: t.workspace }), object: `role ${q(name)}`,
        message: `login role ${q(name)} reaches ${where} (${[...b.privileges].sort().join(", ")}), which the declaration does not give it: ${b.chain.join(" → ")}`,
        chain: b.chain.join(" → "), remediation: revokeLastHop(b.chain.slice(0, -1)), path: pathOf(t),
      });
    }
  }

  const kindOf = (name: string): AccessRoleKind =>
    name === PUBLIC_GRANTEE ? "public" : name === admin ? "admin" : name === bootstrap ? "bootstrap-superuser" : name === expected.auditor ? "auditor" : byOwnRole.has(name) ? "workspace" : "outside";
  const used = new Set<string>();
  const rows = targets.map((t): AccessRow => ({
    target: t.key, kind: t.kind, ...(t.workspace === undefined ? {} : { workspace: t.workspace }), schema: t.schema, declared: t.declared,
    cells: [...cells.get(t)!.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([role, c]): AccessCell => {
      used.add(role);
      return {
        role, declared: c.declared, privileges: [...c.privileges].sort(), credentials: [...c.credentials].sort(),
        paths: [...c.paths.entries()].sort((a, b) => a[1] - b[1] || a[0].length - b[0].length).slice(0, 3).map(([p]) => p),
        findings: [...c.findings].sort(),
        routes: [...c.routes.values()].sort((a, b) => a.depth - b.depth || a.hops.join().localeCompare(b.hops.join())).map((x) => ({
          hops: x.hops, privileges: [...x.privileges].sort(), declared: x.declared, findings: [...x.findings].sort(),
        })),
      };
    }),
  }));
  const matrixRoles = [...used].sort().map((name): AccessRole => {
    const r = roles.get(name);
    return { name, kind: kindOf(name), login: r?.login ?? false, superuser: r?.superuser ?? false, bypassrls: r?.bypassrls ?? false, connect: canConnect.get(name) ?? false };
  });
  return { matrix: { roles: matrixRoles, rows }, findings };
}

/** The role names from the start of `seen` to `role`. */
function hopsTo(seen: ReadonlyMap<string, Reached>, role: string): string[] {
  const hops: string[] = [];
  for (let at: string | undefined = role; at !== undefined; at = seen.get(at)?.via) hops.unshift(at);
  return hops;
}

/** Whether the shortest chain to `holder` goes through `role`. */
function passesThrough(seen: ReadonlyMap<string, Reached>, holder: string, role: string): boolean {
  for (let at = seen.get(holder)?.via; at !== undefined; at = seen.get(at)?.via) if (at === role) return true;
  return false;
}

/** `REVOKE <last role> FROM <its member>` for a chain `a → b (member) → c (member)`. */
function revokeLastHop(chain: readonly string[]): string | undefined {
  if (chain.length < 2) return undefined;
  const name = (hop: string) => hop.replace(/ \([^)]*\)$/, "");
  const role = name(chain.at(-1)!);
  if (role === "pg_database_owner") return undefined;
  return `REVOKE ${ident(role)} FROM ${ident(name(chain.at(-2)!))};`;
}
