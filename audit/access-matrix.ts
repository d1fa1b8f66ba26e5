// The access matrix: for each workspace (and the control plane), who can reach it, with which
// privileges and through which path, and whether the declaration gives it. The HTML report
// draws it; the JSON result carries it.
//
// Filled from the effective-access analysis (audit/access.ts): every role on the server, full
// membership chains (INHERIT, SET ROLE, ADMIN OPTION), ownership, ACLs, column grants, default
// privileges, large objects, pg_read_all_data/pg_write_all_data and superusers. One cell per
// (row, column, path); a workspace's own roles share one column.
import type { AccessMatrix as EffectiveMatrix, AccessRow as EffectiveRow } from "./access.ts";
import { CONTROL_SCHEMA } from "../components/naming.ts";
import type { Expected } from "./expected.ts";
import type { Finding } from "./findings.ts";

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
  /** How: the column's role first, then each role it reaches it through, the holder last (`["evil", "tenancy_admin", "acme__us_sales__owner"]`). */
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

export function accessMatrix(expected: Expected, access: EffectiveMatrix, findings: readonly Finding[] = []): AccessMatrix {
  const own = new Map(expected.workspaces.map((w) => [w.slug, new Set(w.roles.map((r) => r.name))]));
  const kindOf = new Map(access.roles.map((r) => [r.name, r.kind]));
  const rows = access.rows.map((r): AccessRow => ({
    id: r.kind === "control-plane" ? "control plane" : r.workspace!, kind: r.kind, schema: r.schema, declared: r.declared,
  }));
  const columnOf = (row: EffectiveRow, role: string): AccessColumn => {
    const kind = kindOf.get(role);
    if (kind === "public") return { id: "PUBLIC", kind: "public" };
    if (kind === "admin") return { id: role, kind: "admin" };
    if (kind === "auditor") return { id: role, kind: "auditor" };
    if (row.workspace !== undefined && own.get(row.workspace)?.has(role)) return { id: OWN_ROLES, kind: "own-roles" };
    return { id: role, kind: "role" };
  };
  // The findings about a cell: its own (access-beyond-declared, ...), and the boundary or
  // unexpected findings of its row whose message names a role of its path (the grant, the
  // membership or the ownership it rests on).
  const about = (f: Finding, row: EffectiveRow) => (row.kind === "control-plane" ? f.object.includes(`"${CONTROL_SCHEMA}`) : f.workspace === row.workspace);
  const findingsOf = (row: EffectiveRow, path: readonly string[]) => findings
    .filter((f) => (f.class === "boundary" || f.class === "unexpected") && about(f, row))
    .filter((f) => path.some((name) => (name === "PUBLIC" ? f.message.startsWith("PUBLIC ") : f.message.includes(JSON.stringify(name)))))
    .map((f) => f.id);
  const columns = new Map<string, AccessColumn>();
  const cells: AccessCell[] = [];
  access.rows.forEach((row, i) => {
    for (const cell of row.cells) {
      const column = columnOf(row, cell.role);
      columns.set(column.id, column);
      for (const route of cell.routes) {
        cells.push({
          row: rows[i]!.id, column: column.id, privilege: [...route.privileges].sort(comparePrivileges), path: route.hops,
          declared: route.declared, findings: route.declared ? [...route.findings] : [...new Set([...route.findings, ...findingsOf(row, route.hops)])].sort(),
        });
      }
    }
  });
  const order = { "own-roles": 0, admin: 1, auditor: 2, public: 3, role: 4 } as const;
  return { rows, columns: [...columns.values()].sort((a, b) => order[a.kind] - order[b.kind] || a.id.localeCompare(b.id)), cells };
}

const PRIVILEGE_ORDER = ["OWNER", "USAGE", "CREATE", "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN", "EXECUTE"];
function comparePrivileges(a: string, b: string): number {
  const i = (p: string) => { const k = PRIVILEGE_ORDER.indexOf(p); return k < 0 ? PRIVILEGE_ORDER.length : k; };
  return i(a) - i(b) || a.localeCompare(b);
}
