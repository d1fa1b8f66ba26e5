// Live state -> a declaration (`tenancy import`), so a team can adopt the toolkit on a platform
// that already runs. The model is the one the audit rebuilds from the control plane
// (audit/model-from-state.ts); what cannot be recovered from PostgreSQL is said in comments.
import { dump } from "js-yaml";
import type { TenancyModel } from "../config/model.ts";
import { credentialKey } from "../config/secrets.ts";
import { organizationPrefix } from "./expected.ts";
import type { LiveState } from "./live-state.ts";
import { modelFromControlPlane } from "./model-from-state.ts";

export interface ImportResult {
  readonly yaml: string;
  readonly model: TenancyModel;
  /** Things left out or not recoverable, also written as comments. */
  readonly notes: readonly string[];
}

/** One YAML scalar, quoted only when it has to be. */
const scalar = (value: unknown) => dump(value, { lineWidth: -1 }).trimEnd();
/**
 * A small mapping on one line, `{ email: ana@acme.test, role: admin }`. js-yaml quotes each
 * value for the flow context (a comma or a brace in a name stays a value).
 */
function flow(value: Record<string, unknown>): string {
  const defined = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
  return dump(defined, { flowLevel: 0, lineWidth: -1 }).trimEnd().replace(/^\{(.*)\}$/, "{ $1 }");
}

/** The declaration for `live.organization`; undefined when the control plane has no such organization. */
export function importDeclaration(live: LiveState, source: string): ImportResult | undefined {
  const model = modelFromControlPlane(live.controlPlane);
  if (!model?.organization) return undefined;
  const org = model.organization;
  const notes: string[] = [];
  const out: string[] = [
    "# yaml-language-server: $schema=../../config/tenancy.schema.json",
    `# Imported by \`tenancy import\` from ${source} at ${live.snapshotAt}: organization ${JSON.stringify(org.slug)}.`,
    "# Review it, then commit it as stacks/<stack>/tenancy.yaml. Integration credentials are never",
    "# imported: each is named below by its secret config key, which you set on the stack.",
    "version: 1",
    "organization:",
    `  slug: ${scalar(org.slug)}`,
    `  name: ${scalar(org.name)}`,
    "  billing:",
    `    mode: ${scalar(org.billing.mode)}`,
  ];
  if (org.billing.plan !== undefined) out.push(`    plan: ${scalar(org.billing.plan)}`);
  else {
    out.push("    # plan: not recorded in the control plane; add the plan if there is one");
    notes.push("the organization has no plan recorded");
  }
  if (org.billing.creditPool) out.push(`    creditPool: ${flow({ monthlyAllowance: org.billing.creditPool.monthlyAllowance })}`);
  out.push(`  membership: ${scalar(org.membership)}`, "  roles:");
  const roles = Object.entries(org.roles);
  if (roles.length === 0) out[out.length - 1] = "  roles: {}";
  for (const [role, permissions] of roles) out.push(`    ${scalar(role)}: [${permissions.map(scalar).join(", ")}]`);
  out.push(org.people.length === 0 ? "  people: []" : "  people:");
  for (const p of org.people) out.push(`    - ${flow({ email: p.email, name: p.name, orgRole: p.orgRole })}`);
  const unnamed = org.people.filter((p) => p.name === undefined).length;
  if (unnamed > 0) notes.push(`${unnamed} ${unnamed === 1 ? "person has" : "people have"} no name recorded`);

  out.push(model.workspaces.length === 0 ? "workspaces: []" : "workspaces:");
  for (const ws of model.workspaces) {
    out.push(`  - slug: ${scalar(ws.slug)}`, `    name: ${scalar(ws.name)}`);
    if (ws.plan !== undefined) out.push(`    plan: ${scalar(ws.plan)}`);
    if (ws.decommissioned) out.push("    decommissioned: true   # recorded as decommissioned: applying this keeps it on its way out");
    out.push(ws.members.length === 0 ? "    members: []" : "    members:");
    for (const m of ws.members) out.push(`      - ${flow({ email: m.email, role: m.role })}`);
    if (ws.integrations.length > 0) {
      out.push("    integrations:");
      for (const i of ws.integrations) {
        out.push(`      # credentials not imported: set them with \`pulumi config set --secret ${credentialKey(i.credentialsSecret)}\``);
        out.push(`      - ${flow({ slug: i.slug, provider: i.provider, credentialsSecret: i.credentialsSecret })}`);
      }
    }
    if (ws.creditPool) out.push(`    creditPool: ${flow({ monthlyAllowance: ws.creditPool.monthlyAllowance })}`);
    if (ws.exportProfile) out.push(`    exportProfile: ${flow({ ...ws.exportProfile })}`);
    if (ws.agents.length > 0) {
      out.push("    agents:");
      for (const a of ws.agents) out.push(`      - ${flow({ slug: a.slug, name: a.name, styleMemoryFrom: a.styleMemoryFrom })}`);
    }
  }

  // Catalog objects named like the organization's but without a control-plane workspace.
  const prefix = organizationPrefix(org.slug);
  const recorded = new Set(model.workspaces.map((w) => `${prefix}${w.slug.replace(/-/g, "_")}`));
  const stray = live.schemas.map((s) => s.name).filter((n) => n.startsWith(prefix) && !recorded.has(n));
  if (stray.length > 0) {
    notes.push(`schemas without a recorded workspace were not imported: ${stray.join(", ")}`);
    out.push(`# Not imported: schema${stray.length === 1 ? "" : "s"} ${stray.join(", ")} named like a workspace's but with no workspace recorded in the control plane.`);
  }
  return { yaml: out.join("\n") + "\n", model, notes };
}
