// Tenancy policies: every declaration rule, run on the model rebuilt from the resources, plus
// what only the resource graph shows (deployment modes, deletion protection).
import type { PolicyConfigSchema, ReportViolation, Severity as PolicySeverity, StackValidationPolicy, StackValidationArgs } from "@pulumi/policy";
import { BillingMode, MembershipMode } from "../config/schema.ts";
import { DEFAULT_MODES, rebuildModels, resourcesOf, type ModeDefaults, type RebuiltModel } from "./model-from-resources.ts";
import { rules, runRules, Severity, type Rule } from "./rules/index.ts";
import { Token } from "./tokens.ts";
import { nearest, plain, propsOf, type ResourceView } from "./view.ts";

const quote = (value: unknown) => JSON.stringify(value);

/** The deployment modes a stack is meant to run in; "any" accepts what the declaration says. */
export interface DeploymentModesConfig {
  readonly billingMode: BillingMode | "any";
  readonly membershipMode: MembershipMode | "any";
}

export const deploymentModesSchema: PolicyConfigSchema = {
  properties: {
    billingMode: { type: "string", enum: ["any", BillingMode.Rollup, BillingMode.PerWorkspace], default: "any", description: "The billing mode every organization of the stack must use; also assumed for an organization whose record does not say." },
    membershipMode: { type: "string", enum: ["any", MembershipMode.Multi, MembershipMode.Single], default: "any", description: "The membership mode every organization of the stack must use; also assumed for an organization whose record does not say." },
  },
};

function defaultsFrom(config: Partial<DeploymentModesConfig>): ModeDefaults {
  return {
    billingMode: config.billingMode && config.billingMode !== "any" ? config.billingMode : DEFAULT_MODES.billingMode,
    membershipMode: config.membershipMode && config.membershipMode !== "any" ? config.membershipMode : DEFAULT_MODES.membershipMode,
  };
}

// One model per request, shared by every rule policy. The key is the props object of the first
// resource itself: props are shared between the policies of one request (view.ts,
// watchSecrets) and made anew for every request, so a preview's model never serves the update
// that follows it, and a key cheaper than the props (a URN, a count) is never trusted.
const rebuilt = new WeakMap<object, Map<string, { resources: readonly unknown[]; models: RebuiltModel[] }>>();

function models(args: Pick<StackValidationArgs, "resources">, modes: ModeDefaults): RebuiltModel[] {
  const resources = args.resources as unknown as ResourceView[];
  const first = resources[0];
  if (!first) return rebuildModels(resources, modes);
  const key = plain(first.props) as object;
  const byModes = rebuilt.get(key) ?? rebuilt.set(key, new Map()).get(key)!;
  const modesKey = `${modes.billingMode}\u0000${modes.membershipMode}`;
  const hit = byModes.get(modesKey);
  // The same request: same number of resources, each with the very same props objects.
  if (hit && hit.resources.length === resources.length && resources.every((r, i) => plain(r.props) === hit.resources[i])) return hit.models;
  const result = rebuildModels(resources, modes);
  byModes.set(modesKey, { resources: resources.map((r) => plain(r.props)), models: result });
  return result;
}

const severityOf = (rule: Rule): PolicySeverity => (rule.severity === Severity.Error ? "high" : "medium");

/** One stack policy per declaration rule, named by the rule's id. */
export function rulePolicy(rule: Rule): StackValidationPolicy {
  return {
    name: rule.id,
    description: rule.description,
    enforcementLevel: "mandatory",
    severity: severityOf(rule),
    remediationSteps: `Fix the declaration (stacks/<stack>/tenancy.yaml) or the code that builds the Organization so that rule "${rule.id}" holds; \`tenancy validate\` reports the same violation with its line and column.`,
    configSchema: deploymentModesSchema,
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      for (const rebuilt of models(args, defaultsFrom(args.getConfig<Partial<DeploymentModesConfig>>()))) {
        for (const violation of runRules({ model: rebuilt.model }, [rule])) {
          for (const resource of resourcesOf(violation, rebuilt)) report(violation.message, resource.urn);
        }
      }
    },
  };
}

export const rulePolicies: readonly StackValidationPolicy[] = rules.filter((rule) => rule.needs !== "change").map(rulePolicy);

export const deploymentModes: StackValidationPolicy = {
  name: "deployment-modes",
  description: "Checks that every organization uses the billing and membership modes the stack is configured for (policy config billingMode, membershipMode; \"any\" by default).",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps: "Set organization.billing.mode and organization.membership in the declaration to the modes this deployment is for, or change the pack's deployment-modes config.",
  configSchema: deploymentModesSchema,
  validateStack: (args, report) => {
    const config = args.getConfig<Partial<DeploymentModesConfig>>();
    for (const rebuilt of models(args, defaultsFrom(config))) {
      const org = rebuilt.model.organization;
      if (!org || !rebuilt.organization) continue;
      if (config.billingMode && config.billingMode !== "any" && org.billing.mode !== config.billingMode) {
        report(`organization ${quote(org.slug)} must bill in ${quote(config.billingMode)} mode, as this deployment is configured; got ${quote(org.billing.mode)}`, rebuilt.organization.urn);
      }
      if (config.membershipMode && config.membershipMode !== "any" && org.membership !== config.membershipMode) {
        report(`organization ${quote(org.slug)} must use membership ${quote(config.membershipMode)}, as this deployment is configured; got ${quote(org.membership)}`, rebuilt.organization.urn);
      }
    }
  },
};

/** Whether the workspace (a Workspace component) is on its way out. */
function decommissioned(workspace: ResourceView, records: ReadonlyMap<string, ResourceView>): boolean {
  if (propsOf(workspace).decommissioned === true) return true;
  const rec = records.get(workspace.urn);
  return rec !== undefined && propsOf(rec).decommissioned === true;
}

export const workspaceDeletionProtected: StackValidationPolicy = {
  name: "workspace-deletion-protected",
  description: "Checks that every resource of a workspace (the Workspace and everything under it) is protected from deletion unless the workspace is decommissioned.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps: "Create workspace resources with `protect: true` (the Workspace component does this for its children); to delete a workspace, set `decommissioned: true` on it and apply first.",
  validateStack: (args, report) => {
    const resources = args.resources as unknown as ResourceView[];
    const records = new Map<string, ResourceView>();
    for (const r of resources) if (r.type === Token.WorkspaceRecord && r.parent) records.set(r.parent.urn, r);
    for (const r of resources) {
      const workspace = r.type === Token.Workspace ? r : nearest(r, [Token.Workspace]);
      if (!workspace || r.opts?.protect || decommissioned(workspace, records)) continue;
      const slug = propsOf(workspace).slug ?? workspace.name;
      report(`resource ${quote(r.name)} (${r.type}) of workspace ${quote(slug)} must be protected from deletion until the workspace is decommissioned`, r.urn);
    }
  },
};

export const tenancyPolicies: readonly StackValidationPolicy[] = [...rulePolicies, deploymentModes, workspaceDeletionProtected];
