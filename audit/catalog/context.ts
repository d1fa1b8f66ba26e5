// The shared shape of the catalog checks (audit/catalog/*.ts): whose a role or a schema is, how
// a finding is added and located, and lookups built once so every check stays linear in the
// size of the tenancy. Pure.
//
// Who may hold what on a workspace's objects: its own roles (as grants.ts says for the schema
// and the database; freely on the tables its app owns), the object's owner and the admin that
// manages the tenancy. Anyone else (another workspace's role, the auditor, a role outside the
// tenancy, PUBLIC) opens the boundary. A workspace role may reach nothing outside its
// workspace: the control plane and another workspace are `boundary`, anything else `unexpected`.
import { CONTROL_SCHEMA } from "../../components/naming.ts";
import type { GrantDescriptor } from "../../components/grants.ts";
import type { Path } from "../../config/source.ts";
import { strayWorkspace, type Expected, type ExpectedWorkspace } from "../expected.ts";
import type { Finding } from "../findings.ts";
import { PUBLIC_GRANTEE, type LiveDefaultAcl, type LiveRole, type LiveState } from "../live-state.ts";

export const q = (value: string) => JSON.stringify(value);
export const TABLE_LIKE = new Set(["table", "partitioned table", "view", "materialized view", "foreign table"]);
/** What PostgreSQL gives PUBLIC on future objects when a role has no global default ACL row. */
export const BUILTIN_PUBLIC_DEFAULTS: Partial<Record<LiveDefaultAcl["objectType"], readonly string[]>> = { functions: ["EXECUTE"], types: ["USAGE"] };

/** Whose a role or a schema is. */
export type Owner =
  | { readonly kind: "workspace"; readonly slug: string; readonly declared?: ExpectedWorkspace }
  | { readonly kind: "public" | "admin" | "auditor" | "control" | "other" };

export type Add = (cls: Finding["class"], id: string, where: Owner, object: string, message: string, extra?: Pick<Finding, "declared" | "found" | "severity" | "chain" | "remediation">) => void;

export interface CatalogDiffOptions {
  /**
   * The role that manages the tenancy (holds the workspace roles, may hold anything). Default:
   * the owner of the control-plane schema (which the admin made), else the database's owner. Not
   * the database's owner first: whoever swaps it would be taken for the admin.
   */
  readonly admin?: string;
}

/** An identifier for remediation SQL: always double-quoted (PUBLIC is a keyword, not a role). */
export const ident = (name: string) => (name === PUBLIC_GRANTEE ? "PUBLIC" : `"${name.replace(/"/g, '""')}"`);

/** The admin: `options.admin`, else the control-plane schema's owner, else the database's owner. */
export function adminOf(live: LiveState, options: CatalogDiffOptions = {}): string {
  return options.admin ?? live.schemas.find((s) => s.name === CONTROL_SCHEMA)?.owner ?? live.database.owner;
}

/** What every catalog check reads: the expected and live states, and the helpers over them. */
export interface CatalogContext {
  readonly expected: Expected;
  readonly live: LiveState;
  readonly admin: string;
  readonly roles: ReadonlyMap<string, LiveRole>;
  readonly index: Index;
  readonly roleOwner: (name: string) => Owner;
  readonly schemaOwner: (name: string) => Owner;
  /** How a grantee is named in a message: PUBLIC, a workspace's role, the auditor, or outside. */
  readonly holder: (name: string) => string;
  readonly add: Add;
  readonly findings: Finding[];
}

export function catalogContext(expected: Expected, live: LiveState, options: CatalogDiffOptions = {}): CatalogContext {
  const admin = adminOf(live, options);
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
    // Only `<org>__<ws>__owner|app|ro` is a workspace's role; `acme__emea_support__backdoor` is no
    // workspace's (there is no workspace "emea-support--backdoor"): a role outside, named like ours.
    if (name.startsWith(prefix) && /__(owner|app|ro)$/.test(name)) return { kind: "workspace", slug: strayWorkspace(prefix, name) };
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
  const add: Add = (cls, id, where, object, message, extra = {}) =>
    findings.push({ class: cls, id, ...(where.kind === "workspace" ? { workspace: where.slug } : {}), object, message, ...extra, path: pathOf(where) });
  const holder = (name: string) => {
    const g = roleOwner(name);
    if (g.kind === "public") return "PUBLIC";
    if (g.kind === "workspace") return `role ${q(name)} of workspace ${q(g.slug)}`;
    if (g.kind === "auditor") return `the auditor ${q(name)}`;
    return `role ${q(name)} (outside the tenancy)`;
  };
  return {
    expected, live, admin, roles: new Map(live.roles.map((r) => [r.name, r])), index: indexOf(live),
    roleOwner, schemaOwner, holder, add, findings,
  };
}

/** `grantee\u0001privilege` pairs the grants (not revokes) among `descriptors` matching `which` give. */
export function requiredOn(descriptors: readonly GrantDescriptor[], which: (d: GrantDescriptor) => boolean): Set<string> {
  return new Set(descriptors.filter((d) => d.action === "grant" && which(d)).flatMap((d) => d.privileges.map((p) => `${d.role}\u0001${p}`)));
}

export function requiredAuditor(auditor: string, privilege: string): Set<string> {
  return new Set([`${auditor}\u0001${privilege}`]);
}

export interface Index {
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
