// The JSON output's contract (`tenancy audit --format json`), as a zod schema: the source of the
// committed JSON Schema (audit/audit-result.schema.json, `npm run schema:write-audit`), which a
// test keeps up to date and every JSON output is validated against.
import { z } from "zod";
import { AccessRoleKind } from "./access.ts";
import { CLASS_ORDER, Severity } from "./findings.ts";

const findingClass = z.enum(CLASS_ORDER as [string, ...string[]]).describe("Most dangerous first: boundary, rule, missing, unexpected, changed, server, info.");

export const AuditFindingSchema = z.object({
  class: findingClass,
  id: z.string().regex(/^[a-z][a-z0-9-]*$/).describe("Stable kebab-case id of the check, or of the rule (class `rule`)."),
  workspace: z.string().optional().describe("The workspace slug it concerns (or the slug a stray schema or role suggests); absent: organization-wide."),
  object: z.string().describe("What it is about, e.g. `schema \"acme__emea_support\"`."),
  message: z.string().describe("What must hold and what was found. Never a secret value."),
  declared: z.unknown().optional().describe("`changed` only: the declared value."),
  found: z.unknown().optional().describe("`changed` only: the value found."),
  path: z.array(z.union([z.string(), z.number()])).describe("Declaration path it concerns (the nearest declared thing for what is not declared)."),
  severity: z.enum(Object.values(Severity) as [string, ...string[]]).describe("`error` fails the audit (exit 1); `warning` and `info` are reported only. Every class but `info` and `server` is `error`."),
  chain: z.string().optional().describe("Access findings: who reaches it and how, e.g. `evil → tenancy_admin (member) → owner of schema acme__us_sales`."),
  remediation: z.string().optional().describe("The SQL (or command) that removes it, names double-quoted."),
  line: z.int().min(1).describe("1-based line of `path` in the declaration."),
  column: z.int().min(1).describe("1-based column of `path` in the declaration."),
}).strict().describe("One finding.");

const names = z.array(z.string());

export const AccessMatrixSchema = z.object({
  roles: z.array(z.object({
    name: z.string().describe("A role on the server, or `PUBLIC`. Predefined pg_* roles are no column: whoever holds one is, with the chain."),
    kind: z.enum(Object.values(AccessRoleKind) as [string, ...string[]]).describe("bootstrap-superuser, admin, auditor, workspace (a declared workspace's role), public, or outside (any other role)."),
    login: z.boolean(), superuser: z.boolean(), bypassrls: z.boolean(),
    connect: z.boolean().describe("May connect to the audited database: itself, a role it reaches, PUBLIC, or as superuser."),
  }).strict()).describe("The columns: every role that reaches at least one row, by name."),
  rows: z.array(z.object({
    target: z.string().describe("`workspace:<slug>` or `control-plane`."),
    kind: z.enum(["workspace", "control-plane"]),
    workspace: z.string().optional().describe("The workspace's slug."),
    schema: z.string().describe("Its schema."),
    cells: z.array(z.object({
      role: z.string().describe("A name from `roles`."),
      declared: z.boolean().describe("Every path is one the declaration draws: the bootstrap superuser, the admin, the workspace's own roles, a holder of the auditor role on the control plane."),
      privileges: names.describe("On the schema and its relations: OWNER, SUPERUSER, USAGE, CREATE, SELECT, ..., `SELECT (column)`, `future SELECT on tables`, `SELECT on large objects`."),
      credentials: names.describe("On the workspace's sealed-credentials table."),
      paths: names.describe("The shortest chains (at most three), e.g. `evil → tenancy_admin (member) → owner of schema acme__us_sales`."),
      findings: names.describe("Ids of the findings this cell raised."),
    }).strict()).describe("Who reaches it, one per role, by role name."),
  }).strict()).describe("The declared workspaces in declaration order, then the control plane."),
}).strict().describe("Effective access: who reaches each workspace and the control plane, with the privileges and the path, declared or not (audit/access.ts).");

export const AuditResultSchema = z.object({
  version: z.literal(1).describe("Format version; bumped only for incompatible changes."),
  organization: z.string().describe("The organization audited."),
  declaration: z.string().describe("The declaration file, as given."),
  database: z.string().describe("The database audited."),
  user: z.string().describe("The role the audit connected as."),
  snapshotAt: z.string().describe("When the snapshot was taken (server clock, ISO 8601)."),
  clean: z.boolean().describe("True when there is no finding other than `info` (exit code 0)."),
  counts: z.object({
    boundary: z.int().min(0), rule: z.int().min(0), missing: z.int().min(0), unexpected: z.int().min(0),
    changed: z.int().min(0), server: z.int().min(0), info: z.int().min(0), total: z.int().min(0),
  }).strict().describe("Findings per class, and in all."),
  findings: z.array(AuditFindingSchema).describe("Ordered by risk: class, then organization-wide before workspaces, workspaces by slug."),
  access: AccessMatrixSchema,
  stats: z.object({
    queries: z.int().min(0).describe("Statements sent to PostgreSQL: fixed, whatever the tenancy's size."),
    durationMs: z.number().min(0).describe("Time to read the snapshot."),
    awsCalls: z.int().min(0).optional().describe("AWS API calls (with --aws)."),
  }).strict().optional().describe("With --verbose."),
}).strict().describe("The result of `tenancy audit --format json`.");

export const AUDIT_SCHEMA_FILE = "audit/audit-result.schema.json";

export function auditResultJsonSchema(): string {
  const schema = z.toJSONSchema(AuditResultSchema, { target: "draft-7" });
  return JSON.stringify({ title: "tenancy-as-code audit result", ...schema }, null, 2) + "\n";
}
