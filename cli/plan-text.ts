// The plan for a terminal: the same order as the markdown (counts, risks, violations, then the
// changes grouped by workspace), plain text, nothing folded or cut. Every value from a
// declaration goes through escapeText: a name cannot move the cursor or forge a line.
import { StackStatus, type PlanReport, type StackPlan } from "../policies/plan/report.ts";
import { groupedChanges, headline, symbolOf } from "./plan-markdown.ts";
import { escapeText as t } from "../components/escape.ts";

export function formatText(report: PlanReport): string {
  const lines = [`tenancy plan ${report.ok ? "passes" : "fails"}: ${headline(report)}`];
  for (const plan of report.stacks) lines.push("", ...stackLines(plan));
  return lines.join("\n") + "\n";
}

function stackLines(plan: StackPlan): string[] {
  const from = t(plan.base?.source ?? "(none)");
  const to = t(plan.head?.source ?? "(none)");
  const status = plan.status === StackStatus.Created ? "new stack" : plan.status === StackStatus.Removed ? "stack removed" : plan.status;
  const lines = [`== ${t(plan.stack)}: ${status} (${from} -> ${to})`];
  if (plan.risks.length > 0) {
    lines.push("risks:");
    for (const risk of plan.risks) lines.push(`  ! ${risk.kind.padEnd(12)} ${t(risk.summary)}`);
  }
  if (plan.violations.length > 0) {
    lines.push("violations:");
    for (const v of plan.violations) {
      lines.push(`  ${t(v.file)}:${v.line}:${v.column} ${t(v.rule)} ${t(v.message)}${v.acknowledged ? " [acknowledged]" : ""}`);
    }
  }
  for (const [workspace, changes] of groupedChanges(plan)) {
    lines.push(workspace === "" ? "organization:" : `workspace ${t(workspace)}:`);
    for (const c of changes) lines.push(`  ${symbolOf(c.kind)} ${t(c.summary)}`);
  }
  return lines;
}
