// The shape of a plan: one typed result that the text, markdown and JSON outputs all render.
// Defined once as zod schemas; the TypeScript types derive from them and the committed JSON
// Schema (policies/plan/plan.schema.json) is generated from them, so `--format json` has a
// documented, stable shape that a test checks real output against.
import { z } from "zod";

export const PLAN_FORMAT_VERSION = 1;

export const RiskKind = { Irreversible: "irreversible", Admin: "admin", Boundary: "boundary" } as const;
export type RiskKind = (typeof RiskKind)[keyof typeof RiskKind];
/** Most dangerous first: the order of the risk summary. */
export const RISK_ORDER: readonly RiskKind[] = [RiskKind.Irreversible, RiskKind.Admin, RiskKind.Boundary];

export const ChangeKind = {
  OrganizationCreated: "organization-created",
  OrganizationRemoved: "organization-removed",
  OrganizationRenamed: "organization-renamed",
  BillingModeChanged: "billing-mode-changed",
  MembershipModeChanged: "membership-mode-changed",
  PlanChanged: "plan-changed",
  CreditPoolChanged: "credit-pool-changed",
  RoleAdded: "role-added",
  RoleRemoved: "role-removed",
  RolePermissionsChanged: "role-permissions-changed",
  PersonAdded: "person-added",
  PersonRemoved: "person-removed",
  PersonRenamed: "person-renamed",
  OrgRoleChanged: "org-role-changed",
  WorkspaceCreated: "workspace-created",
  WorkspaceRenamed: "workspace-renamed",
  WorkspaceDecommissioned: "workspace-decommissioned",
  WorkspaceRecommissioned: "workspace-recommissioned",
  WorkspaceDeleted: "workspace-deleted",
  MemberAdded: "member-added",
  MemberRemoved: "member-removed",
  MemberRoleChanged: "member-role-changed",
  IntegrationConnected: "integration-connected",
  IntegrationRemoved: "integration-removed",
  IntegrationChanged: "integration-changed",
  ExportProfileChanged: "export-profile-changed",
  AgentAdded: "agent-added",
  AgentRemoved: "agent-removed",
  AgentRenamed: "agent-renamed",
  StyleMemoryChanged: "style-memory-changed",
} as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

const Value = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())])
  .describe("A value before or after the change; `null` when absent. Secret-looking strings are replaced by a note saying why.");

export const ChangeSchema = z.object({
  kind: z.enum(Object.values(ChangeKind) as [ChangeKind, ...ChangeKind[]]).describe("What kind of change."),
  workspace: z.string().optional().describe("Slug of the workspace it belongs to; absent for organization-level changes."),
  subject: z.string().optional().describe("What changed inside: a person's normalised email, an integration/agent/role slug, an export-profile field."),
  before: Value.optional(),
  after: Value.optional(),
  via: z.enum(["invitation", "direct"]).optional().describe(
    "member-added only: `invitation` when the person had no workspace before (the components invite anyone without an active account), `direct` when already a member elsewhere.",
  ),
  risk: z.enum(RISK_ORDER as [RiskKind, ...RiskKind[]]).optional().describe("Set when the change is in the risk summary."),
  summary: z.string().describe("One sentence for people."),
}).describe("One semantic change, keyed by slug and normalised email (reordering YAML is no change).");

export const RiskSchema = z.object({
  kind: z.enum(RISK_ORDER as [RiskKind, ...RiskKind[]]).describe("`irreversible` (deletions), `admin` (people gaining or losing admin), `boundary` (integrations, billing mode, membership mode)."),
  workspace: z.string().optional().describe("Slug of the workspace concerned, when there is one."),
  summary: z.string().describe("One sentence for people."),
}).describe("An entry of the risk summary.");

export const PlanViolationSchema = z.object({
  rule: z.string().describe("Stable rule id (`schema`/`yaml` for errors no rule owns)."),
  severity: z.enum(["error", "warning"]),
  message: z.string(),
  path: z.string().describe("Path into the declaration, e.g. `workspaces[2].members`."),
  file: z.string().describe("The file it points into: the head, or the base for what a change removed."),
  line: z.number().int().min(1),
  column: z.number().int().min(1),
  acknowledged: z.boolean().describe("Acknowledged for this change (`--acknowledge <rule>`): shown, but does not fail the plan."),
}).describe("A rule violation.");

export const SideSchema = z.object({
  source: z.string().describe("Where this side was read: a file path or `REF:path`."),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).describe("SHA-256 of the declaration's bytes."),
}).describe("One side of the comparison.");

export const StackStatus = { Created: "created", Removed: "removed", Changed: "changed", Unchanged: "unchanged" } as const;
export type StackStatus = (typeof StackStatus)[keyof typeof StackStatus];

export const StackPlanSchema = z.object({
  stack: z.string().describe("Stack name (the directory under stacks/), or the head file when none can be told."),
  status: z.enum(Object.values(StackStatus) as [StackStatus, ...StackStatus[]]).describe(
    "`created`: no base side (a new stack); `removed`: no head side; `unchanged`: no semantic change.",
  ),
  base: SideSchema.nullable(),
  head: SideSchema.nullable(),
  risks: z.array(RiskSchema).describe("The risk summary, most dangerous first."),
  changes: z.array(ChangeSchema).describe("Every change: organization-level first, then by workspace."),
  violations: z.array(PlanViolationSchema).describe("Rules on the head plus the change rules; what the base removed points into the base."),
}).describe("The plan of one stack.");

export const PlanReportSchema = z.object({
  version: z.literal(PLAN_FORMAT_VERSION).describe("Format version of this document."),
  ok: z.boolean().describe("True when no violation is left unacknowledged (exit code 0)."),
  summary: z.object({
    stacks: z.number().int().min(0),
    changedStacks: z.number().int().min(0),
    changes: z.number().int().min(0),
    risks: z.object({ irreversible: z.number().int().min(0), admin: z.number().int().min(0), boundary: z.number().int().min(0) }),
    violations: z.number().int().min(0).describe("Violations not acknowledged."),
    acknowledged: z.number().int().min(0),
  }).describe("Counts over every stack."),
  stacks: z.array(StackPlanSchema),
}).describe("`tenancy plan --format json`: what a change to one or more stack declarations does, and which rules it breaks.");

export type Change = z.output<typeof ChangeSchema>;
export type Risk = z.output<typeof RiskSchema>;
export type PlanViolation = z.output<typeof PlanViolationSchema>;
export type Side = z.output<typeof SideSchema>;
export type StackPlan = z.output<typeof StackPlanSchema>;
export type PlanReport = z.output<typeof PlanReportSchema>;

export const PLAN_JSON_SCHEMA_FILE = "policies/plan/plan.schema.json";

export function planJsonSchema(): string {
  const schema = z.toJSONSchema(PlanReportSchema, { io: "output", target: "draft-7" });
  return JSON.stringify({ title: "tenancy plan --format json", ...schema }, null, 2) + "\n";
}

/** Builds the report from stack plans: the counts and the verdict. */
export function planReport(stacks: readonly StackPlan[]): PlanReport {
  const all = stacks.flatMap((s) => s.violations).filter((v) => v.severity === "error");
  const risks = stacks.flatMap((s) => s.risks);
  const count = (kind: RiskKind) => risks.filter((r) => r.kind === kind).length;
  const open = all.filter((v) => !v.acknowledged).length;
  return {
    version: PLAN_FORMAT_VERSION,
    ok: open === 0,
    summary: {
      stacks: stacks.length,
      changedStacks: stacks.filter((s) => s.status !== StackStatus.Unchanged).length,
      changes: stacks.reduce((n, s) => n + s.changes.length, 0),
      risks: { irreversible: count(RiskKind.Irreversible), admin: count(RiskKind.Admin), boundary: count(RiskKind.Boundary) },
      violations: open,
      acknowledged: all.length - open,
    },
    stacks: [...stacks],
  };
}
