// The declaration format, as zod schemas: the single source of the model's types and of the
// committed JSON Schema (config/tenancy.schema.json).
//
// The schema is built in two modes from one definition:
// - "strict": every format, unknown keys rejected. This is what users are held to, and what
//   the JSON Schema shows editors.
// - "lenient": the same shape and types with the format checks and unknown-key checks left to
//   the rules. When strict parsing fails, lenient parsing still yields a model, so the rules
//   can run and one `validate` reports every mistake at once instead of the first layer only.
import { z } from "zod";
import { EMAIL, HEX_COLOUR, isPlainEmail, ORG_SLUG, PERMISSION, ROLE_NAME, SECRET_NAME, SLUG } from "./formats.ts";

export const BillingMode = { Rollup: "rollup", PerWorkspace: "per-workspace" } as const;
export type BillingMode = (typeof BillingMode)[keyof typeof BillingMode];
export const MembershipMode = { Multi: "multi-workspace", Single: "single-workspace" } as const;
export type MembershipMode = (typeof MembershipMode)[keyof typeof MembershipMode];

export type SchemaMode = "strict" | "lenient";

/** The app role's CONNECTION LIMIT when neither the workspace nor the organization declares one. */
export const DEFAULT_APP_CONNECTION_LIMIT = 20;
/** The largest CONNECTION LIMIT a declaration may give an app role (a server allows ~100 by default). */
export const MAX_APP_CONNECTION_LIMIT = 10_000;

function build(mode: SchemaMode) {
  const strict = mode === "strict";
  const text = (re: RegExp) => (strict ? z.string().regex(re) : z.string());
  const nonEmpty = () => (strict ? z.string().trim().min(1) : z.string());
  const object = <T extends z.ZodRawShape>(shape: T) => (strict ? z.strictObject(shape) : z.object(shape));
  const allowance = strict ? z.int().min(0) : z.number();
  const connectionLimit = strict ? z.int().min(1).max(MAX_APP_CONNECTION_LIMIT) : z.number();
  const email = () => (strict
    ? z.string().regex(EMAIL).refine(isPlainEmail, "must be a plain ASCII address after Unicode NFKC (letters, digits and . _ % + ' - before the @); look-alike, invisible and control characters are refused")
    : z.string());

  const creditPool = object({
    monthlyAllowance: allowance.describe("Credits granted each month. A non-negative safe integer."),
  }).describe("A credit pool. Credits never move between pools.");

  const person = object({
    email: email().describe("The person's email; compared after Unicode NFKC and lower-casing."),
    name: nonEmpty().optional().describe("Display name. Optional."),
    orgRole: text(ROLE_NAME).optional().describe(
      "Role at organization level, from `organization.roles`. Only organization roles granting " +
        "`workspaces.manage` may create or delete workspaces. Optional: most people have none.",
    ),
  }).describe("A person in the organization's directory. Listed exactly once.");

  const member = object({
    email: email().describe("A person from `organization.people`."),
    role: text(ROLE_NAME).describe("A role from `organization.roles`."),
  }).describe("A workspace membership. Someone already in the organization is added directly; a new email is an invitation.");

  const integration = object({
    slug: text(SLUG).describe("Unique within the workspace; used in resource names."),
    provider: nonEmpty().describe("The OAuth provider, e.g. `slack`, `google-drive`, `hubspot`."),
    credentialsSecret: (strict ? z.string().min(1) : z.string()).describe(
      "The NAME of a Pulumi secret config key holding the OAuth credentials (`key`, set as " +
        "`credentials:key`, or `namespace:key`), never the credential itself. Not shared with any other workspace.",
    ),
  }).describe("An integration connected to this workspace only.");

  const agent = object({
    slug: text(SLUG).describe("Unique within the workspace."),
    name: nonEmpty().describe("Display name."),
    styleMemoryFrom: text(SLUG).optional().describe(
      "Slug of another agent IN THE SAME WORKSPACE whose style memory this agent starts from. " +
        "Style memory never crosses workspaces. Default: its own.",
    ),
  }).describe("An agent and its style memory, owned by one workspace.");

  const exportProfile = object({
    letterhead: nonEmpty().describe("Letterhead text on exported documents."),
    accentColour: text(HEX_COLOUR).describe("Accent colour as `#RRGGBB`."),
    contactBlock: nonEmpty().describe("Contact block printed on exports."),
  }).describe("How this workspace's exports look.");

  const workspace = object({
    slug: text(SLUG).describe("Unique in the organization; used in schema, role and secret names."),
    name: nonEmpty().describe("Display name."),
    plan: nonEmpty().optional().describe(
      "Per-workspace billing only: this workspace's subscription plan. Default: `organization.billing.plan`.",
    ),
    members: z.array(member).default([]).describe("The whole member list (authoritative). Default: none."),
    integrations: z.array(integration).default([]).describe("Connected integrations. Default: none."),
    creditPool: creditPool.optional().describe("Per-workspace billing only: this workspace's own pool."),
    exportProfile: exportProfile.optional().describe("Export look. Default: the SaaS default profile."),
    agents: z.array(agent).default([]).describe("Agents. Default: none."),
    connectionLimit: connectionLimit.optional().describe(
      `How many sessions this workspace's app role may hold at once (its CONNECTION LIMIT), 1 to ${MAX_APP_CONNECTION_LIMIT}, ` +
        "so no workspace can take every connection the server has and lock the admin out. Its owner and read-only " +
        `roles cannot log in and get 0. Default: \`organization.connectionLimit\`, else ${DEFAULT_APP_CONNECTION_LIMIT}.`,
    ),
    decommissioned: z.boolean().default(false).describe(
      "Deleting a workspace is permanent, so its resources are protected. Set true (and apply) to " +
        "lift the protection; removing the workspace from the list afterwards deletes it. Default: false.",
    ),
    // Kept (as an opaque value) only in lenient mode, so `no-nested-workspaces` can name it.
    ...(strict ? {} : { workspaces: z.unknown().optional() }),
  }).describe("A workspace: a hard data boundary under the organization.");

  const organization = object({
    slug: text(ORG_SLUG).describe("`^[a-z][a-z0-9-]{1,30}$`; used in resource names."),
    name: nonEmpty().describe("Display name."),
    billing: object({
      mode: z.enum([BillingMode.Rollup, BillingMode.PerWorkspace]).describe(
        "`rollup`: workspaces draw on the organization's plan and pool. `per-workspace`: each " +
          "workspace has its own subscription and pool.",
      ),
      plan: nonEmpty().optional().describe("The organization's plan (rollup), or the default workspace plan (per-workspace)."),
      creditPool: creditPool.optional().describe("Rollup only: the organization's pool."),
    }).describe("How the organization pays."),
    membership: z.enum([MembershipMode.Multi, MembershipMode.Single]).default(MembershipMode.Multi).describe(
      "`multi-workspace` (default): a person may be in many workspaces. `single-workspace`: in one at most.",
    ),
    roles: z.record(text(ROLE_NAME), z.array(text(PERMISSION))).describe("Role catalogue: role name -> permissions."),
    people: z.array(person).default([]).describe("The organization's directory: every person exactly once."),
    connectionLimit: connectionLimit.optional().describe(
      `The default CONNECTION LIMIT of every workspace's app role, 1 to ${MAX_APP_CONNECTION_LIMIT}; a workspace's own ` +
        `\`connectionLimit\` overrides it. Default: ${DEFAULT_APP_CONNECTION_LIMIT}.`,
    ),
  }).describe("The top-level organization. Exactly one per stack.");

  return object({
    $schema: z.string().optional().describe("Editor hint: path or URL of the JSON Schema."),
    version: z.literal(1).describe("Declaration format version."),
    organization: (strict ? organization : organization.optional()).describe("The top-level organization. Exactly one per stack."),
    workspaces: z.array(workspace).default([]).describe("The organization's workspaces. Never nested."),
  }).describe("A tenancy declaration: one organization and its workspaces (stacks/<stack>/tenancy.yaml).");
}

export const DeclarationSchema = build("strict");
export const LenientDeclarationSchema = build("lenient");

export type Declaration = z.output<typeof DeclarationSchema>;
export type OrganizationDecl = NonNullable<Declaration["organization"]>;
export type WorkspaceDecl = Declaration["workspaces"][number];
export type PersonDecl = OrganizationDecl["people"][number];
export type MemberDecl = WorkspaceDecl["members"][number];
export type IntegrationDecl = WorkspaceDecl["integrations"][number];
export type AgentDecl = WorkspaceDecl["agents"][number];
export type CreditPoolDecl = NonNullable<WorkspaceDecl["creditPool"]>;
export type ExportProfileDecl = NonNullable<WorkspaceDecl["exportProfile"]>;
