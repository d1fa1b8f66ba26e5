// Billing: rolled up to the organization, or one subscription and credit pool per workspace.
import { isSafeAllowance } from "../../config/formats.ts";
import { BillingMode } from "../../config/schema.ts";
import { defineRule, quote, Severity, type Finding } from "./types.ts";

export const billingRollup = defineRule({
  id: "billing-rollup",
  description: "Checks that in rollup billing the organization has a plan and a credit pool and no workspace declares its own pool or plan.",
  severity: Severity.Error,
  *check({ model }) {
    const org = model.organization;
    if (org?.billing.mode !== BillingMode.Rollup) return;
    if (!org.billing.plan) yield { path: ["organization", "billing", "plan"], message: `organization ${quote(org.slug)} bills in rollup mode and must declare billing.plan` };
    if (!org.billing.creditPool) yield { path: ["organization", "billing", "creditPool"], message: `organization ${quote(org.slug)} bills in rollup mode and must declare billing.creditPool, the pool its workspaces draw on` };
    for (const [w, ws] of model.workspaces.entries()) {
      if (ws.creditPool) yield { path: ["workspaces", w, "creditPool"], message: `workspace ${quote(ws.slug)} must not declare a creditPool in rollup billing: it draws on the organization's pool; remove it or set billing.mode: per-workspace` };
      if (ws.plan !== undefined) yield { path: ["workspaces", w, "plan"], message: `workspace ${quote(ws.slug)} must not declare a plan in rollup billing: it uses the organization's plan; move ${quote(ws.plan)} to organization.billing.plan or set billing.mode: per-workspace` };
    }
  },
});

export const creditPoolPerWorkspace = defineRule({
  id: "credit-pool-per-workspace",
  description: "Checks that in per-workspace billing every workspace has its own plan and credit pool and the organization none, and that every allowance is a non-negative safe integer.",
  severity: Severity.Error,
  owns: ["organization.billing.creditPool.**", "workspaces.*.creditPool.**"],
  *check({ model }) {
    const org = model.organization;
    if (org?.billing.mode === BillingMode.PerWorkspace) {
      if (org.billing.creditPool) yield { path: ["organization", "billing", "creditPool"], message: `organization ${quote(org.slug)} bills per workspace and must not declare an organization creditPool: credits never move between workspaces` };
      for (const [w, ws] of model.workspaces.entries()) {
        if (!ws.creditPool) yield { path: ["workspaces", w], message: `workspace ${quote(ws.slug)} must declare its own creditPool (billing.mode: per-workspace)` };
        if (ws.plan === undefined && !org.billing.plan) yield { path: ["workspaces", w], message: `workspace ${quote(ws.slug)} must have a subscription plan: set its "plan" or a default organization.billing.plan` };
      }
    }
    yield* badAllowance(org?.billing.creditPool?.monthlyAllowance, ["organization", "billing", "creditPool", "monthlyAllowance"], `organization ${quote(org?.slug)}`);
    for (const [w, ws] of model.workspaces.entries()) {
      yield* badAllowance(ws.creditPool?.monthlyAllowance, ["workspaces", w, "creditPool", "monthlyAllowance"], `workspace ${quote(ws.slug)}`);
    }
  },
});

function* badAllowance(value: number | undefined, path: (string | number)[], owner: string): Iterable<Finding> {
  if (value === undefined || isSafeAllowance(value)) return;
  yield { path, message: `monthlyAllowance of ${owner} must be a non-negative whole number of credits up to ${Number.MAX_SAFE_INTEGER}; got ${quote(value)}` };
}
