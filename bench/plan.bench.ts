// bench/plan.bench.ts — `tenancy plan` at scale, in-process, beside validate on the same file.
// Two generated declarations of 1,000 workspaces × 50 members (50,000 memberships, 2,000 people,
// 1,000 integrations and agents) differing in 1% of memberships (500 role changes). Issue #10's
// target: well under a second.
//   npx tsx bench/plan.bench.ts        (or import { measurePlan } for a combined table)
import { pathToFileURL } from "node:url";
import { formatMarkdown } from "../cli/plan-markdown.ts";
import { checkDeclaration } from "../policies/declaration.ts";
import { planStack } from "../policies/plan/plan.ts";
import { planReport } from "../policies/plan/report.ts";
import { generateDeclaration } from "./generate.ts";

export interface PlanBenchFigures {
  readonly workspaces: number;
  readonly memberships: number;
  readonly changedMemberships: number;
  readonly megabytes: number;
  readonly runs: number;
  /** Median wall-clock milliseconds. */
  readonly validateMs: number;
  readonly planMs: number;
  readonly planAndRenderMs: number;
  /**
   * Median CPU milliseconds (user + system of this process): on a shared machine the wall
   * clock mostly measures the other processes; CPU time much less so.
   */
  readonly validateCpuMs: number;
  readonly planCpuMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Changes the role of every n-th editor so that `count` memberships differ. */
export function changeMemberships(text: string, count: number): string {
  const needle = "role: editor}";
  const positions: number[] = [];
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) positions.push(at);
  const step = Math.floor(positions.length / count);
  const chosen = new Set(Array.from({ length: count }, (_, i) => positions[i * step]!));
  let out = "";
  let last = 0;
  for (const at of [...chosen].sort((a, b) => a - b)) {
    out += text.slice(last, at) + "role: viewer}";
    last = at + needle.length;
  }
  return out + text.slice(last);
}

export function measurePlan({ workspaces = 1000, membersPerWorkspace = 50, share = 0.01, runs = 5 } = {}): PlanBenchFigures {
  const base = generateDeclaration({ workspaces, membersPerWorkspace });
  const memberships = workspaces * membersPerWorkspace;
  const changed = Math.round(memberships * share);
  const head = changeMemberships(base, changed);
  const side = (source: string, text: string) => ({ source, text, sha256: "0".repeat(64) });

  const validate: number[] = [];
  const plan: number[] = [];
  const rendered: number[] = [];
  const validateCpu: number[] = [];
  const planCpu: number[] = [];
  const cpu = (since: NodeJS.CpuUsage) => { const d = process.cpuUsage(since); return (d.user + d.system) / 1000; };
  for (let i = 0; i < runs; i++) {
    let start = performance.now();
    let cpuStart = process.cpuUsage();
    const checked = checkDeclaration(head, "head.yaml");
    validate.push(performance.now() - start);
    validateCpu.push(cpu(cpuStart));
    if (checked.violations.length !== 0) throw new Error(`bench: the head is invalid: ${checked.violations[0]!.message}`);

    start = performance.now();
    cpuStart = process.cpuUsage();
    const stack = planStack({ stack: "bench", base: side("base.yaml", base), head: side("head.yaml", head) });
    plan.push(performance.now() - start);
    planCpu.push(cpu(cpuStart));
    const roleChanges = stack.changes.filter((c) => c.kind === "member-role-changed").length;
    if (roleChanges !== changed || stack.changes.length !== changed || stack.violations.length !== 0) {
      throw new Error(`bench: expected exactly ${changed} role changes and no violation; got ${stack.changes.length} changes, ${stack.violations.length} violations`);
    }
    const report = planReport([stack]);
    formatMarkdown(report);
    JSON.stringify(report);
    rendered.push(performance.now() - start);
  }
  return {
    workspaces, memberships, changedMemberships: changed, megabytes: base.length / 1e6, runs,
    validateMs: median(validate), planMs: median(plan), planAndRenderMs: median(rendered),
    validateCpuMs: median(validateCpu), planCpuMs: median(planCpu),
  };
}

export function formatPlanBench(f: PlanBenchFigures): string {
  const row = (label: string, ms: number, cpu?: number) =>
    `${label.padEnd(62)} ${ms.toFixed(0).padStart(6)} ms${cpu === undefined ? "" : ` (CPU ${cpu.toFixed(0)} ms)`}`;
  return [
    `declarations: ${f.workspaces.toLocaleString("en-US")} workspaces, ${f.memberships.toLocaleString("en-US")} memberships, ` +
      `${f.megabytes.toFixed(2)} MB each, ${f.changedMemberships} memberships differ; median of ${f.runs} runs`,
    row("tenancy validate, the head alone (parse + schema + rules)", f.validateMs, f.validateCpuMs),
    row("tenancy plan: both sides parsed, every rule + change rules, diff", f.planMs, f.planCpuMs),
    row("tenancy plan + markdown and JSON rendering", f.planAndRenderMs),
    `ratio: plan takes ${(f.planMs / f.validateMs).toFixed(1)}x validate's wall time, ${(f.planCpuMs / f.validateCpuMs).toFixed(1)}x its CPU time (it parses and models two declarations)`,
    `target: plan well under 1000 ms -> ${f.planAndRenderMs < 1000 ? "met" : "MISSED"}`,
  ].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(formatPlanBench(measurePlan()));
}
