// bench/plan.bench.ts — `tenancy plan` at scale, in-process, beside validate on the same file.
// Two generated declarations of 1,000 workspaces × 10 members (10,000 memberships, 2,000 people,
// 1,000 integrations and agents) differing in 1% of memberships (100 role changes); issue #10's
// target: well under a second. The same at 50 members a workspace, beside it, without a target. Then plan's growth when workspaces, members, people and
// integrations grow ×10 each (and all ×3 together), validate's beside it on the same files.
//   npx tsx bench/plan.bench.ts        (or `npm run bench -- --only plan` for the table rows)
import { formatMarkdown } from "../cli/plan-markdown.ts";
import { checkDeclaration } from "../policies/declaration.ts";
import { planStack } from "../policies/plan/plan.ts";
import { planReport } from "../policies/plan/report.ts";
import { generateDeclaration, type GenerateOptions } from "./generate.ts";
import { count, factor, median, seconds } from "./measure.ts";
import { isMain, renderText, type BenchModule, type Row } from "./table.ts";

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
  readonly planAndRenderCpuMs: number;
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

export interface PlanBenchOptions extends Partial<GenerateOptions> {
  /** Share of memberships whose role differs between the two sides. Default 0.01 (at least one). */
  readonly share?: number;
  readonly runs?: number;
}

export function measurePlan({ workspaces = 1000, membersPerWorkspace = 50, share = 0.01, runs = 5, ...rest }: PlanBenchOptions = {}): PlanBenchFigures {
  const base = generateDeclaration({ workspaces, membersPerWorkspace, ...rest });
  const memberships = workspaces * membersPerWorkspace;
  const changed = Math.max(1, Math.round(memberships * share));
  const head = changeMemberships(base, changed);
  const side = (source: string, text: string) => ({ source, text, sha256: "0".repeat(64) });

  const validate: number[] = [];
  const plan: number[] = [];
  const rendered: number[] = [];
  const validateCpu: number[] = [];
  const planCpu: number[] = [];
  const renderedCpu: number[] = [];
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
    renderedCpu.push(cpu(cpuStart));
  }
  return {
    workspaces, memberships, changedMemberships: changed, megabytes: base.length / 1e6, runs,
    validateMs: median(validate), planMs: median(plan), planAndRenderMs: median(rendered),
    validateCpuMs: median(validateCpu), planCpuMs: median(planCpu), planAndRenderCpuMs: median(renderedCpu),
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
    row("tenancy plan + markdown and JSON rendering", f.planAndRenderMs, f.planAndRenderCpuMs),
    `ratio: plan takes ${(f.planMs / f.validateMs).toFixed(1)}x validate's wall time, ${(f.planCpuMs / f.validateCpuMs).toFixed(1)}x its CPU time (it parses and models two declarations)`,
    `target: plan well under 1 s (< ${TARGET_MS} ms) -> ${f.planAndRenderMs < TARGET_MS ? "met" : "MISSED"}`,
  ].join("\n");
}

/** The figure of issue #10, plan and its rendering (what `tenancy plan` does in-process), "well under a second": half of one. */
const TARGET_MS = 500;

// Growth: a base shaped like the declarations above but smaller, each dimension ×10 alone, then
// all of them ×3 at once (×10 each would be far over the 16 MiB declaration limit).
const BASE = { workspaces: 300, membersPerWorkspace: 5, people: 200, integrationsPerWorkspace: 1 } as const;
const GROWTH = 10;
const ALL = 3;
const DIMENSIONS: readonly { name: string; sizes: PlanBenchOptions }[] = [
  { name: "workspaces", sizes: { ...BASE, workspaces: BASE.workspaces * GROWTH } },
  { name: "members", sizes: { ...BASE, membersPerWorkspace: BASE.membersPerWorkspace * GROWTH } },
  { name: "people", sizes: { ...BASE, people: BASE.people * GROWTH } },
  { name: "integrations", sizes: { ...BASE, integrationsPerWorkspace: BASE.integrationsPerWorkspace * GROWTH } },
  {
    name: "all",
    sizes: {
      workspaces: BASE.workspaces * ALL, membersPerWorkspace: BASE.membersPerWorkspace * ALL,
      people: BASE.people * ALL, integrationsPerWorkspace: BASE.integrationsPerWorkspace * ALL,
    },
  },
];

export async function planRows(log: (line: string) => void = () => {}): Promise<Row[]> {
  const rows: Row[] = [];
  // The target's shape is the engine's (1,000 workspaces × 10 members); 50 members a workspace
  // (five times the file) is measured beside it, with no target.
  for (const [membersPerWorkspace, target] of [[10, true], [50, false]] as const) {
    log(`plan: 1,000 workspaces × ${membersPerWorkspace} members, 1% of memberships changed`);
    const f = measurePlan({ membersPerWorkspace });
    rows.push({
      area: "plan",
      measure: `${count(f.workspaces)} workspaces × ${f.memberships / f.workspaces} members (${count(f.memberships)} memberships, ${f.megabytes.toFixed(1)} MB a side), ${count(f.changedMemberships)} role changes (1%), plan + markdown/JSON, in-process`,
      figure: seconds(f.planAndRenderMs),
      note: `CPU ${seconds(f.planAndRenderCpuMs)} (plan without rendering: ${seconds(f.planMs)}, CPU ${seconds(f.planCpuMs)}); median of ${f.runs}${target ? `; target well under 1 s (< 0.5 s): ${f.planAndRenderMs < TARGET_MS ? "met" : "MISSED"}` : ""}`,
    }, {
      area: "plan",
      measure: `validate of the same head, same run (${count(f.workspaces)} workspaces × ${f.memberships / f.workspaces} members)`,
      figure: seconds(f.validateMs),
      note: `CPU ${seconds(f.validateCpuMs)}; plan/validate ${factor(f.planMs / f.validateMs)} wall, ${factor(f.planCpuMs / f.validateCpuMs)} CPU (plan parses and models both sides)`,
    });
  }

  const base = measurePlan({ ...BASE, runs: 5 });
  const plan: string[] = [];
  const validate: string[] = [];
  for (const { name, sizes } of DIMENSIONS) {
    log(`plan: growing ${name}`);
    const grown = measurePlan({ ...sizes, runs: 5 });
    // CPU time: growth factors from wall time on a shared machine mostly measure the others.
    plan.push(`${name} ${factor(grown.planCpuMs / base.planCpuMs)}`);
    validate.push(`${name} ${factor(grown.validateCpuMs / base.validateCpuMs)}`);
  }
  const input = `${count(BASE.workspaces)} workspaces × ${BASE.membersPerWorkspace} members, ${count(BASE.people)} people, ${BASE.integrationsPerWorkspace} integration each; each dimension ×${GROWTH}, all ×${ALL} each`;
  rows.push({ area: "plan", measure: `plan growth, CPU (${input})`, figure: plan.join(", "), note: `base: plan CPU ${seconds(base.planCpuMs)}; medians of ${base.runs}` });
  rows.push({ area: "plan", measure: "validate growth on the same heads, CPU, same run", figure: validate.join(", "), note: `base: validate CPU ${seconds(base.validateCpuMs)}` });
  return rows;
}

export const bench: BenchModule = {
  name: "plan",
  description: "tenancy plan in-process on two 1,000-workspace declarations (× 10 and × 50 members) differing in 1% of memberships, beside validate; growth per dimension",
  run: ({ log }) => planRows(log),
};

if (isMain(import.meta.url)) {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (process.argv.includes("--table")) process.stdout.write(renderText(await planRows(log)));
  else console.log(formatPlanBench(measurePlan()));
}
