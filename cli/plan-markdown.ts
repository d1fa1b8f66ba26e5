// The plan as a pull-request comment. Reviewers read it under time pressure, so: counts first,
// then every stack's risk summary and violations (most dangerous first), then details folded
// per workspace. GitHub refuses comments over 65,536 characters: the summaries always survive
// (each list capped, with a count of what was left out), then detail blocks are added while
// they fit, then shown as one-line counts, then cut, with a visible count of what was cut.
import type { Change, PlanReport, PlanViolation, Risk, StackPlan } from "../policies/plan/report.ts";
import { RISK_ORDER, RiskKind, StackStatus } from "../policies/plan/report.ts";
import { escapeMarkdown as md } from "../components/escape.ts";

export const GITHUB_COMMENT_LIMIT = 65_536;
/** Risks or violations listed per stack in the summary; the rest are counted. */
const SUMMARY_ITEMS = 40;

export interface MarkdownOptions {
  /** Upper bound on the length of the result. Default: GitHub's comment limit. */
  readonly maxChars?: number;
}

const RISK_LABEL: Record<RiskKind, string> = {
  [RiskKind.Irreversible]: "irreversible",
  [RiskKind.Admin]: "admin",
  [RiskKind.Boundary]: "boundary",
};

export function symbolOf(kind: Change["kind"]): string {
  if (/-(created|added|connected)$/.test(kind)) return "+";
  if (/-(removed|deleted)$/.test(kind)) return "-";
  return "~";
}

export function headline(report: PlanReport): string {
  const s = report.summary;
  const risks = RISK_ORDER.map((k) => `${s.risks[k]} ${RISK_LABEL[k]}`).join(", ");
  const verdict = s.violations > 0 ? `${s.violations} violation${s.violations === 1 ? "" : "s"}` : "no violations";
  const acknowledged = s.acknowledged > 0 ? ` (${s.acknowledged} acknowledged)` : "";
  return `${s.changes} change${s.changes === 1 ? "" : "s"} in ${s.changedStacks} of ${s.stacks} stack${s.stacks === 1 ? "" : "s"}; risks: ${risks}; ${verdict}${acknowledged}`;
}

export function formatMarkdown(report: PlanReport, options: MarkdownOptions = {}): string {
  const max = options.maxChars ?? GITHUB_COMMENT_LIMIT;
  const head = [`## tenancy plan ${report.ok ? "passes" : "fails"}`, "", `**${md(headline(report))}**`, ""];
  const summary = report.stacks.map(stackSummary).join("\n");
  let out = [...head, summary].join("\n");
  if (out.length > max) {
    // Only with very many stacks: keep the head and as much summary as fits, visibly cut.
    const note = `\n\n_The summary was cut at ${max.toLocaleString("en-US")} characters; run \`tenancy plan --format text\` for all of it._\n`;
    return out.slice(0, Math.max(0, max - note.length)) + note;
  }

  const blocks = report.stacks.flatMap(detailBlocks);
  if (blocks.length === 0) return out + "\n";
  out += "\n### Details\n\n";
  const reserve = 400; // room for the truncation note
  let full = 0;
  const compact: typeof blocks = [];
  const cut: typeof blocks = [];
  for (const block of blocks) {
    if (compact.length === 0 && cut.length === 0 && out.length + block.full.length + reserve <= max) {
      out += block.full;
      full++;
    } else if (cut.length === 0 && out.length + block.line.length + reserve <= max) {
      out += block.line;
      compact.push(block);
    } else {
      cut.push(block);
    }
  }
  if (compact.length > 0 || cut.length > 0) {
    const changes = [...compact, ...cut].reduce((n, b) => n + b.changes, 0);
    out += `\n_Details shortened to stay under GitHub's ${GITHUB_COMMENT_LIMIT.toLocaleString("en-US")}-character comment limit: ` +
      `${full} of ${blocks.length} sections shown in full, ${compact.length} as counts only, ${cut.length} cut ` +
      `(${changes} changes not listed). Run \`tenancy plan --format text\` or \`--format json\` for everything._\n`;
  }
  return out;
}

function stackSummary(plan: StackPlan): string {
  const sides = plan.status === StackStatus.Created ? "new stack"
    : plan.status === StackStatus.Removed ? "stack removed"
    : plan.status === StackStatus.Unchanged ? "unchanged"
    : `${plan.changes.length} change${plan.changes.length === 1 ? "" : "s"}`;
  // Names go in <code>, not in backticks: a code span would show the escapes instead of the name.
  const lines = [`### <code>${md(plan.stack)}</code>: ${sides}`, ""];
  if (plan.status === StackStatus.Unchanged && plan.violations.length === 0) return lines.join("\n");
  if (plan.risks.length > 0) {
    lines.push("**Risks**", "");
    lines.push(...capped(plan.risks, riskLine, "risks"), "");
  } else if (plan.changes.length > 0) {
    lines.push("No irreversible, admin or boundary changes.", "");
  }
  if (plan.violations.length > 0) {
    lines.push("**Violations**", "");
    lines.push(...capped(plan.violations, violationLine, "violations"), "");
  }
  return lines.join("\n");
}

function riskLine(risk: Risk): string {
  return `- **${RISK_LABEL[risk.kind]}**: ${md(risk.summary)}`;
}

function violationLine(v: PlanViolation): string {
  const mark = v.acknowledged ? "acknowledged" : v.severity;
  return `- **${mark}** <code>${md(v.rule)}</code> ${md(`${v.file}:${v.line}`)}: ${md(v.message)}`;
}

function capped<T>(items: readonly T[], line: (item: T) => string, what: string): string[] {
  const shown = items.slice(0, SUMMARY_ITEMS).map(line);
  if (items.length > SUMMARY_ITEMS) shown.push(`- … and ${items.length - SUMMARY_ITEMS} more ${what} (see \`--format json\`)`);
  return shown;
}

interface Block {
  readonly full: string;
  readonly line: string;
  readonly changes: number;
}

/** One folded block for the organization, then one per workspace, most dangerous first. */
function detailBlocks(plan: StackPlan): Block[] {
  return groupedChanges(plan).map(([workspace, changes]) => {
    const title = workspace === "" ? "organization" : `workspace ${workspace}`;
    const count = `${changes.length} change${changes.length === 1 ? "" : "s"}`;
    // escapeMarkdown's output is character references only, so it reads the same inside <summary>.
    const label = `<code>${md(plan.stack)}</code> · ${md(title)}: ${count}`;
    const items = changes.map((c) => `- \`${symbolOf(c.kind)}\` ${md(c.summary)}`).join("\n");
    return {
      full: `<details><summary>${label}</summary>\n\n${items}\n\n</details>\n`,
      line: `- ${md(plan.stack)} · ${md(title)}: ${count} (not listed)\n`,
      changes: changes.length,
    };
  });
}

/**
 * Changes grouped by workspace ("" for the organization, always first), then the workspaces
 * holding the most dangerous change first; otherwise in the plan's order.
 */
export function groupedChanges(plan: StackPlan): [workspace: string, changes: Change[]][] {
  const groups = new Map<string, Change[]>();
  for (const change of plan.changes) {
    const key = change.workspace ?? "";
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(change);
  }
  const rank = (changes: Change[]) => Math.min(...changes.map((c) => (c.risk ? RISK_ORDER.indexOf(c.risk) : RISK_ORDER.length)));
  return [...groups.entries()].sort(([a, x], [b, y]) => Number(a !== "") - Number(b !== "") || rank(x) - rank(y));
}
