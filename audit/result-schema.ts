// The JSON output's contract (`tenancy audit --format json`), as a zod schema: the source of the
// committed JSON Schema (audit/audit-result.schema.json, `npm run schema:write-audit`), which a
// test keeps up to date and every JSON output is validated against.
import { z } from "zod";
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
  line: z.int().min(1).describe("1-based line of `path` in the declaration."),
  column: z.int().min(1).describe("1-based column of `path` in the declaration."),
  // audit-report: remediation, exceptions.
  remediation: z.string().optional().describe("What to run to put it right: SQL, or a `tenancy` command."),
  excepted: z.object({
    reason: z.string(), who: z.string(),
    expires: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).describe("The last day the exception holds."),
    at: z.string().describe("The entry in the exceptions file, `file:line`."),
  }).strict().optional().describe("Accepted in the exceptions file: reported, not failing."),
  file: z.string().optional().describe("The file `line` and `column` refer to, when not the declaration (the exceptions file)."),
}).strict().describe("One finding.");

// audit-report: the access matrix (audit/access-matrix.ts) and the evidence block (audit/evidence.ts).
const AccessMatrixSchema = z.object({
  rows: z.array(z.object({
    id: z.string().describe("The workspace slug, or `control plane`."),
    kind: z.enum(["workspace", "control-plane"]),
    schema: z.string().describe("The schema the row covers."),
    declared: z.boolean().describe("False for a schema named like a workspace the declaration lacks."),
  }).strict()),
  columns: z.array(z.object({
    id: z.string().describe("A role, `PUBLIC`, or `(own roles)`: the row's own workspace roles together."),
    kind: z.enum(["own-roles", "admin", "auditor", "public", "role"]),
  }).strict()),
  cells: z.array(z.object({
    row: z.string(), column: z.string(),
    privilege: z.array(z.string()).describe("Privileges held (OWNER for ownership)."),
    path: z.array(z.string()).min(1).describe("The column's role first, then each role of the membership chain it reaches the row through, the holder last."),
    declared: z.boolean().describe("True when the declaration gives this holder this access."),
    findings: z.array(z.string()).describe("Ids of the findings about it."),
  }).strict()).describe("Sparse: one cell per row, column and path."),
}).strict().describe("Who can reach each workspace and the control plane, with which privilege, through which path: computed from every role on the server (audit/access.ts), membership chains with INHERIT, SET or ADMIN OPTION, ownership, ACLs, column grants, default privileges (`future SELECT on tables`), large objects (`SELECT on large objects`), pg_read_all_data/pg_write_all_data and superusers (`SUPERUSER`). Predefined pg_* roles are no column: whoever holds one is, with the path.");

// audit-report: the evidence block (audit/evidence.ts).
const EvidenceSchema = z.object({
  at: z.string().describe("The snapshot's time on the server's clock (ISO 8601)."),
  server: z.object({
    systemIdentifier: z.string().regex(/^\d+$/).nullable().describe("pg_control_system().system_identifier; null when the audit role may not read it."),
    version: z.string().describe("The server's version (server_version)."),
  }).strict(),
  declaration: z.object({
    file: z.string(),
    repositoryPath: z.string().describe("Its path from the repository root (outside git: from the working directory); SARIF's artifact URI."),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).describe("sha256 of the declaration file's bytes."),
    gitCommit: z.string().regex(/^[0-9a-f]{40,64}$/).optional().describe("The commit checked out where the file lives."),
    gitDirty: z.boolean().optional().describe("True when the file differs from that commit."),
  }).strict(),
  toolkit: z.object({ name: z.string(), version: z.string() }).strict(),
  engine: z.object({ pulumi: z.string().describe("The Pulumi engine version the toolkit pins."), node: z.string() }).strict(),
  auditor: z.object({ currentUser: z.string(), sessionUser: z.string() }).strict().describe("The role the audit ran as, and the one it logged in as."),
  resultSha256: z.string().regex(/^[0-9a-f]{64}$/).describe("sha256 over the canonical JSON (sorted keys, no whitespace) of this result without `stats` and this field."),
}).strict().describe("Who audited what, when, against which server; and a digest to sign.");

export const AuditResultSchema = z.object({
  version: z.literal(1).describe("Format version; bumped only for incompatible changes."),
  organization: z.string().describe("The organization audited."),
  declaration: z.string().describe("The declaration file, as given."),
  database: z.string().describe("The database audited."),
  user: z.string().describe("The role the audit connected as."),
  snapshotAt: z.string().describe("When the snapshot was taken (server clock, ISO 8601)."),
  clean: z.boolean().describe("True when no finding fails the audit: none of severity `error` that is not excepted (exit code 0)."),
  counts: z.object({
    boundary: z.int().min(0), rule: z.int().min(0), missing: z.int().min(0), unexpected: z.int().min(0),
    changed: z.int().min(0), server: z.int().min(0), info: z.int().min(0), total: z.int().min(0),
    excepted: z.int().min(0).describe("Findings accepted in the exceptions file (counted in their class too)."),
  }).strict().describe("Findings per class, and in all."),
  findings: z.array(AuditFindingSchema).describe("Ordered by risk: class, then organization-wide before workspaces, workspaces by slug."),
  stats: z.object({
    queries: z.int().min(0).describe("Statements sent to PostgreSQL: fixed, whatever the tenancy's size."),
    durationMs: z.number().min(0).describe("Time to read the snapshot."),
    awsCalls: z.int().min(0).optional().describe("AWS API calls (with --aws)."),
  }).strict().optional().describe("With --verbose."),
  accessMatrix: AccessMatrixSchema.optional(),
  evidence: EvidenceSchema.optional().describe("Set by `tenancy audit` on every run (one statement of its own, before the snapshot and not in `stats.queries`)."),
}).strict().describe("The result of `tenancy audit --format json`.");

export const AUDIT_SCHEMA_FILE = "audit/audit-result.schema.json";

export function auditResultJsonSchema(): string {
  const schema = z.toJSONSchema(AuditResultSchema, { target: "draft-7" });
  return JSON.stringify({ title: "tenancy-as-code audit result", ...schema }, null, 2) + "\n";
}
