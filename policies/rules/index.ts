// The one list of rules. `tenancy validate`, the policy pack and the audit all run this array.
import { billingRollup, creditPoolPerWorkspace } from "./billing.ts";
import { connectionLimitValid } from "./connections.ts";
import {
  inviteOnce, memberInDirectory, roleDefined, singleWorkspaceMembership, workspaceHasAdmin, workspaceManagerExists,
} from "./people.ts";
import { resourceNamesValid } from "./names.ts";
import { noNestedWorkspaces, uniqueWorkspaceSlug, workspaceRequiresOrganization } from "./structure.ts";
import { adminRemovalGuarded, massRemovalGuarded, organizationDeleteBlocked, workspaceDeleteGuarded } from "./transitions.ts";
import type { Rule } from "./types.ts";
import { agentIsolated, exportProfileValid, integrationCredentialsScoped } from "./workspace-data.ts";

export const rules: readonly Rule[] = [
  workspaceRequiresOrganization,
  noNestedWorkspaces,
  uniqueWorkspaceSlug,
  roleDefined,
  inviteOnce,
  memberInDirectory,
  workspaceHasAdmin,
  workspaceManagerExists,
  singleWorkspaceMembership,
  billingRollup,
  creditPoolPerWorkspace,
  integrationCredentialsScoped,
  agentIsolated,
  exportProfileValid,
  resourceNamesValid,
  connectionLimitValid,
  // Change rules (`needs: "change"`): run by `tenancy plan` only, where two versions are compared.
  organizationDeleteBlocked,
  workspaceDeleteGuarded,
  massRemovalGuarded,
  adminRemovalGuarded,
];

export { runRules, ownerOf } from "./engine.ts";
export { Severity, type Finding, type Rule, type RuleContext, type RuleSettings, type Violation } from "./types.ts";
