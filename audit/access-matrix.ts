// The access matrix: for each workspace (and the control plane), who can reach it, with which
// privileges and through which path, and whether the declaration gives it. The HTML report
// draws it; the JSON result carries it.
//
// Built here from what the audit reads today: direct ACL entries and owners of a workspace's
// schema, tables, sequences and functions, and one level of role membership (a member of a role
// that holds something reaches it through that role). The effective-access analysis (every role
// on the server, full membership chains, superusers, the database owner, built-in roles) fills
// the same type with longer paths; the renderer does not change.
import { CONTROL_SCHEMA } from "../components/naming.ts";
import type { Expected } from "./expected.ts";
import type { Finding } from "./findings.ts";
import type { AclEntry, LiveState } from "./live-state.ts";

/** A workspace (its slug) or the control plane. */
export interface AccessRow {
  readonly id: string;
  readonly kind: "workspace" | "control-plane";
  /** The schema the row covers. */
  readonly schema: string;
  /** False for a schema named like a workspace the declaration lacks. */
  readonly declared: boolean;
}

/** Who reaches: a role, PUBLIC, or a workspace's own roles taken together. */
export interface AccessColumn {
  readonly id: string;
  readonly kind: "own-roles" | "admin" | "auditor" | "public" | "role";
}

export interface AccessCell {
  readonly row: string;
  readonly column: string;
  /** Privileges held, sorted: `OWNER`, `USAGE`, `SELECT`, ... */
  readonly privilege: readonly string[];
  /** How: the role that holds it first, then each role it reaches it through (`["evil", "acme__us_sales__app"]`). */
  readonly path: readonly string[];
  /** True when the declaration gives this holder this access. */
  readonly declared: boolean;
  /** Ids of the findings about it (class boundary first). */
  readonly findings: readonly string[];
}

export interface AccessMatrix {
  readonly rows: readonly AccessRow[];
  readonly columns: readonly AccessColumn[];
  /** Sparse: only who reaches something. One cell per (row, column, path). */
  readonly cells: readonly AccessCell[];
}

export const OWN_ROLES = "(own roles)";

export function accessMatrix(expected: Expected, live: LiveState, findings: readonly Finding[], options: { readonly admin?: string } = {}): AccessMatrix {
  const admin = options.admin ?? live.database.owner;
  const declaredSlugs = new Map(expected.workspaces.map((w) => [w.names.schema, w]));
  const ownerOf = new Map<string, string>(); // workspace role -> slug
  for (const w of expected.workspaces) for (const r of w.roles) ownerOf.set(r.name, w.slug);

  const rows: AccessRow[] = [
    ...expected.workspaces.map((w): AccessRow => ({ id: w.slug, kind: "workspace", schema: w.names.schema, declared: true })),
    ...live.schemas
      .filter((s) => s.name.startsWith(expected.prefix) && !declaredSlugs.has(s.name))
      .map((s): AccessRow => ({ id: s.name.slice(expected.prefix.length).replace(/_/g, "-"), kind: "workspace", schema: s.name, declared: false })),
    { id: "control plane", kind: "control-plane", schema: CONTROL_SCHEMA, declared: true },
  ];
  const rowBySchema = new Map(rows.map((r) => [r.schema, r]));

  // row -> holder -> privileges
  const direct = new Map<string, Map<string, Set<string>>>();
  const hold = (row: AccessRow, holder: string, privilege: string) => {
    const byHolder = direct.get(row.id) ?? direct.set(row.id, new Map()).get(row.id)!;
    (byHolder.get(holder) ?? byHolder.set(holder, new Set()).get(holder)!).add(privilege);
  };
  const objects: { schema: string; owner: string; acl: readonly AclEntry[] }[] = [
    ...live.schemas.map((s) => ({ schema: s.name, owner: s.owner, acl: s.acl })),
    ...live.relations.map((r) => ({ schema: r.schema, owner: r.owner, acl: [...r.acl, ...r.columnAcl] })),
    ...live.functions.map((f) => ({ schema: f.schema, owner: f.owner, acl: f.acl })),
  ];
  for (const o of objects) {
    const row = rowBySchema.get(o.schema);
    if (!row) continue;
    hold(row, o.owner, "OWNER");
    for (const e of o.acl) hold(row, e.grantee, e.privilege);
  }

  const columnOf = (row: AccessRow, holder: string): AccessColumn => {
    if (holder === "PUBLIC") return { id: "PUBLIC", kind: "public" };
    if (holder === admin) return { id: holder, kind: "admin" };
    if (holder === expected.auditor) return { id: holder, kind: "auditor" };
    if (row.kind === "workspace" && (ownerOf.get(holder) === row.id || (!row.declared && holder.startsWith(`${row.schema}__`)))) return { id: OWN_ROLES, kind: "own-roles" };
    return { id: holder, kind: "role" };
  };
  const isDeclared = (row: AccessRow, column: AccessColumn, privilege: string) => {
    if (!row.declared) return false;
    if (column.kind === "own-roles" || column.kind === "admin") return true;
    // The auditor reads the control plane (USAGE, SELECT); PUBLIC holds nothing anywhere here.
    return column.kind === "auditor" && row.kind === "control-plane" && (privilege === "USAGE" || privilege === "SELECT");
  };

  const cells = new Map<string, { row: string; column: string; privilege: Set<string>; path: string[]; declared: boolean }>();
  const add = (row: AccessRow, holder: string, privileges: Iterable<string>, through: readonly string[]) => {
    const column = columnOf(row, holder);
    const path = [holder, ...through];
    const key = [row.id, column.id, ...path].join("\u0001");
    const cell = cells.get(key) ?? cells.set(key, { row: row.id, column: column.id, privilege: new Set(), path, declared: true }).get(key)!;
    for (const p of privileges) {
      cell.privilege.add(p);
      // A path through a role is declared only when the holder itself is (the admin holding its roles).
      if (!isDeclared(row, column, p) || (through.length > 0 && column.kind !== "admin" && column.kind !== "own-roles")) cell.declared = false;
    }
  };
  for (const row of rows) {
    const byHolder = direct.get(row.id);
    if (!byHolder) continue;
    for (const [holder, privileges] of byHolder) add(row, holder, privileges, []);
    // One step of membership: whoever holds a role that reaches the row reaches it too (with INHERIT or SET).
    for (const m of live.memberships) {
      const privileges = byHolder.get(m.role);
      if (!privileges || m.member === m.role || (!m.inherit && !m.set)) continue;
      if (columnOf(row, m.member).id === columnOf(row, m.role).id) continue;
      add(row, m.member, privileges, [m.role]);
    }
  }

  const about = (f: Finding, row: AccessRow) => row.kind === "control-plane" ? f.object.includes(`"${CONTROL_SCHEMA}`) : f.workspace === row.id;
  const findingsOf = (row: AccessRow, path: readonly string[]) => findings
    .filter((f) => (f.class === "boundary" || f.class === "unexpected") && about(f, row))
    .filter((f) => path.some((name) => (name === "PUBLIC" ? f.message.startsWith("PUBLIC ") : f.message.includes(JSON.stringify(name)))))
    .map((f) => f.id);
  const order = { "own-roles": 0, admin: 1, auditor: 2, public: 3, role: 4 } as const;
  const columns = new Map<string, AccessColumn>();
  for (const c of cells.values()) {
    const row = rows.find((r) => r.id === c.row)!;
    columns.set(c.column, columnOf(row, c.path[0]!));
  }
  return {
    rows,
    columns: [...columns.values()].sort((a, b) => order[a.kind] - order[b.kind] || a.id.localeCompare(b.id)),
    cells: [...cells.values()].map((c): AccessCell => ({
      row: c.row, column: c.column, privilege: [...c.privilege].sort(comparePrivileges), path: c.path, declared: c.declared,
      findings: [...new Set(findingsOf(rows.find((r) => r.id === c.row)!, c.path))].sort(),
    })),
  };
}

const PRIVILEGE_ORDER = ["OWNER", "USAGE", "CREATE", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN", "EXECUTE"];
function comparePrivileges(a: string, b: string): number {
  const i = (p: string) => { const k = PRIVILEGE_ORDER.indexOf(p); return k < 0 ? PRIVILEGE_ORDER.length : k; };
  return i(a) - i(b) || a.localeCompare(b);
}
