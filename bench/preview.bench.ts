// The real engine on the real stack program at scale (`npm run bench`, `--engine-sizes 10,100`,
// 1,000 opt-in): fresh preview, first `up` (checkpoints skipped as `tenancy apply` does for a
// plan of creates; checkpoints on beside it up to 100 workspaces), no-change preview, one-member
// change preview, resources and state bytes per workspace, and the growth between sizes. Every dimension grows with the
// workspaces: 10 members each, a directory of 5 people per workspace (the issue-18 shape: 1,000 workspaces, 5,000 people), 1 integration each.
// The no-change preview also runs with the stack program as the SDK runs it on its own
// (TENANCY_PROGRAM_PRELOAD=off, see scripts/toolchain/program-preload.cjs), side by side.
// Everything lives in a throwaway directory (state, embedded PostgreSQL, declaration) and a
// throwaway stack; .tenancy/ and the demo stacks are untouched.
//
//   npm run bench:preview -- [--workspaces 100] [--members 10] [--checkpoints default|skip]
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { load, dump } from "js-yaml";
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { withBenchStack } from "./engine-stack.ts";
import { count, seconds } from "./measure.ts";
import { sampleProcesses, type TreeSample } from "./process-tree.ts";
import { isMain, renderText, type BenchModule, type Row } from "./table.ts";


export interface EngineBenchOptions {
  readonly workspaces: number;
  /** Members per workspace (one admin, the rest alternate editor/viewer). */
  readonly members: number;
  /** PULUMI_SKIP_CHECKPOINTS for the first up, as `tenancy apply` runs a plan of creates only. */
  readonly skipCheckpoints?: boolean;
}

interface Planned { readonly op: string; readonly urn: string; readonly custom: boolean }
interface Step {
  readonly seconds: number;
  /** Non-"same" steps the engine reported. */
  readonly planned: Planned[];
  /** Every step, "same" included. */
  readonly steps: number;
  readonly tree: TreeSample;
}

export async function postmasterPid(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, ".tenancy", "postgres", "data", "postmaster.pid"), "utf8").catch(() => "");
  const pid = Number(text.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? [pid] : [];
}

export async function measure(roots: number[], run: (onEvent: (e: EngineEvent) => void) => Promise<unknown>): Promise<Step> {
  const planned: Planned[] = [];
  let steps = 0;
  const sampler = sampleProcesses([process.pid, ...roots]);
  const start = performance.now();
  await run((event) => {
    const step = event.resourcePreEvent?.metadata;
    if (!step) return;
    steps++;
    if (step.op !== "same") planned.push({ op: step.op, urn: step.urn, custom: (step.new ?? step.old)?.custom ?? false });
  });
  return { seconds: (performance.now() - start) / 1000, planned, steps, tree: sampler.stop() };
}

/** The declaration with one member's role changed (viewer <-> editor) in the first workspace. */
function oneRoleChanged(text: string): string {
  const doc = load(text) as { workspaces: { members: { role: string }[] }[] };
  const member = doc.workspaces[0]!.members[1]!;
  member.role = member.role === "viewer" ? "editor" : "viewer";
  return dump(doc, { flowLevel: 4, lineWidth: -1 });
}

/** In a Workspace's subtree: its URN's type chain names the Workspace component. */
const inWorkspace = (urn: string) => (urn.split("::")[2] ?? "").split("$").includes("tenancy:index:Workspace");

/** The size of the stack's state file (the file backend), 0 when there is none yet. */
async function stateBytes(dir: string, stackName: string): Promise<number> {
  const files = await readdir(join(dir, ".pulumi"), { recursive: true }).catch(() => [] as string[]);
  const file = files.find((f) => f.endsWith(`${stackName}.json`));
  return file ? (await stat(join(dir, ".pulumi", file))).size : 0;
}

/** CPU seconds per part of the toolchain: the program, the engine, our provider, PostgreSQL. */
export function cpuText(tree: TreeSample): string {
  const parts: [string, string][] = [["node run", "program"], ["pulumi", "engine"], ["node main.mjs", "provider"], ["node main.js", "provider"], ["postgres", "postgres"]];
  return parts.map(([label, name]) => [name, tree.byLabel.get(label)?.cpuSeconds] as const)
    .filter(([, s]) => s !== undefined && s >= 0.05).map(([name, s]) => `${name} ${s!.toFixed(1)}`).join(", ");
}

/** Wall seconds per workspace count, for the growth rows. */
const timings = new Map<number, { up: number; same: number; change: number }>();

/** The engine's share of the CPU the toolchain used (program, engine, provider, PostgreSQL). */
function engineShare(tree: TreeSample): string {
  const labels = ["node run", "pulumi", "node main.mjs", "node main.js", "postgres"];
  const total = labels.reduce((sum, l) => sum + (tree.byLabel.get(l)?.cpuSeconds ?? 0), 0);
  const engine = tree.byLabel.get("pulumi")?.cpuSeconds ?? 0;
  return total > 0 ? ` (engine ${Math.round((100 * engine) / total)}%)` : "";
}

/**
 * The time growth allowed when workspaces grow ×`ratio`: the issue's ≤ ×12 per ×10 read as a power
 * law (time ∝ workspaces^1.08), so ×10 allows ×12, ×3 allows ×3.27 and ×30 allows ×39.4. A
 * quadratic step (×9 for ×3) misses it at any ratio.
 */
export function allowedGrowth(ratio: number): number {
  return 12 ** (Math.log(ratio) / Math.log(10));
}

/** Growth between each pair of measured sizes against allowedGrowth of their ratio. */
export function growthRows(): Row[] {
  const sizes = [...timings.keys()].sort((a, b) => a - b);
  const rows: Row[] = [];
  for (const [i, small] of sizes.entries()) {
    for (const big of sizes.slice(i + 1)) {
      const a = timings.get(small)!, b = timings.get(big)!;
      const allowed = allowedGrowth(big / small);
      for (const [what, key] of [["first `up`", "up"], ["no-change preview", "same"], ["one-member-change preview", "change"]] as const) {
        const g = b[key] / a[key];
        rows.push({
          area: "engine", measure: `growth ${count(small)} → ${count(big)} workspaces (×${+(big / small).toFixed(1)}): ${what}`, figure: `×${g.toFixed(1)}`,
          note: `target ≤ ×${+allowed.toFixed(2)} (×12 per ×10): ${g <= allowed ? "met" : "MISSED"}`,
        });
      }
    }
  }
  return rows;
}

/** A first `up` with checkpoints on, on its own fresh stack: beside the skipped one it shows what skipping saves. */
async function checkpointedUpRow(workspaces: number, log: (line: string) => void): Promise<Row> {
  const declaration = { workspaces, membersPerWorkspace: 10, people: Math.max(5 * workspaces, 10), integrationsPerWorkspace: 1 };
  return withBenchStack("bench-checkpoints", declaration, log, async ({ dir, stack }) => {
    const r = await measure(await postmasterPid(dir), (onEvent) => stack.up({ onEvent }));
    const skipped = timings.get(workspaces)?.up;
    log(`engine: ${count(workspaces)} workspaces: first up, checkpoints on ${seconds(r.seconds * 1000)}; cpu s: ${cpuText(r.tree)}`);
    return {
      area: "engine", measure: `first \`up\`, checkpoints on: ${count(workspaces)} workspaces × 10 members`, figure: seconds(r.seconds * 1000),
      note: `${count(r.planned.length)} creates; CPU s: ${cpuText(r.tree)}${engineShare(r.tree)}${skipped ? `; ×${(r.seconds / skipped).toFixed(2)} the skipped run's time` : ""}`,
    };
  });
}

/** One stack of `workspaces` workspaces, measured from a fresh preview to a one-member change. */
export async function engineRows(options: EngineBenchOptions, log: (line: string) => void = () => {}): Promise<Row[]> {
  const { workspaces: N, members: M } = options;
  if (!Number.isInteger(N) || N < 1 || !Number.isInteger(M) || M < 2) throw new Error("bench: workspaces must be >= 1 and members >= 2 (one admin, one member to change)");
  const declaration = { workspaces: N, membersPerWorkspace: M, people: Math.max(5 * N, M), integrationsPerWorkspace: 1 };
  return withBenchStack("bench-preview", declaration, log, async ({ dir, stack, file, text, model }) => {
    const roots = await postmasterPid(dir);
    const s = stack;
    const people = model.organization?.people.length ?? 0;
    const size = `${count(N)} workspaces × ${M} members, ${count(people)} people`;
    log(`engine: ${size}, ${count(N)} integrations; declaration ${(text.length / 1024).toFixed(0)} KB`);
    const step = async (label: string, run: (onEvent: (e: EngineEvent) => void) => Promise<unknown>) => {
      const r = await measure(roots, run);
      log(`engine: ${size}: ${label} ${seconds(r.seconds * 1000)} (${r.planned.length} changes of ${r.steps}); cpu s: ${cpuText(r.tree)}`);
      return r;
    };

    const fresh = await step("fresh preview", (onEvent) => s.preview({ onEvent }));
    if (options.skipCheckpoints) s.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
    const up = await step("first up", (onEvent) => s.up({ onEvent }));
    delete s.workspace.envVars.PULUMI_SKIP_CHECKPOINTS;
    const state = await stateBytes(dir, stack.name);
    // With the preload, then the program as the SDK runs it alone: same stack, back to back (the
    // first preview after the up pays any warm-up, so the comparison does not favour the preload).
    const same = await step("no-change preview", (onEvent) => s.preview({ onEvent }));
    s.workspace.envVars.TENANCY_PROGRAM_PRELOAD = "off";
    const sdkDefault = await step("no-change preview, SDK defaults", (onEvent) => s.preview({ onEvent }));
    delete s.workspace.envVars.TENANCY_PROGRAM_PRELOAD;
    await writeFile(file, oneRoleChanged(text));
    const change = await step("one-member-change preview", (onEvent) => s.preview({ onEvent }));

    timings.set(N, { up: up.seconds, same: same.seconds, change: change.seconds });
    const total = fresh.planned.length;
    const custom = fresh.planned.filter((p) => p.custom).length;
    const perWorkspace = fresh.planned.filter((p) => inWorkspace(p.urn)).length;
    const resources = `${count(total)} resources`;
    const nothing = (r: Step) => (r.planned.length === 0 ? "plans nothing" : `PLANS ${r.planned.length} CHANGES`);
    const program = (r: Step) => r.tree.byLabel.get("node run")?.cpuSeconds ?? 0;
    const oneUpdate = change.planned.length === 1 && change.planned[0]!.op === "update";
    const rows: Row[] = [
      { area: "engine", measure: `preview, fresh stack: ${size} (${resources})`, figure: seconds(fresh.seconds * 1000), note: `CPU s: ${cpuText(fresh.tree)}` },
      {
        area: "engine", measure: `first \`up\`, ${options.skipCheckpoints ? "checkpoints skipped" : "checkpoints on"}: ${size}`, figure: seconds(up.seconds * 1000),
        note: `${count(up.planned.length)} creates; CPU s: ${cpuText(up.tree)}${engineShare(up.tree)}${N === 1000 ? `; target ≤ 10 min: ${up.seconds <= 600 ? "met" : "MISSED"}` : ""}`,
      },
      {
        area: "engine", measure: `no-change preview: ${size}`, figure: seconds(same.seconds * 1000),
        note: `${nothing(same)}; CPU s: ${cpuText(same.tree)}${N === 1000 ? `; target ≤ 30 s: ${same.seconds <= 30 ? "met" : "MISSED"}` : ""}`,
      },
      {
        area: "engine", measure: `no-change preview, program as the SDK runs it (no preload): ${size}`, figure: seconds(sdkDefault.seconds * 1000),
        note: `${nothing(sdkDefault)}; CPU s: ${cpuText(sdkDefault.tree)}; the preload saves ${(program(sdkDefault) - program(same)).toFixed(1)} s of program CPU (×${(program(sdkDefault) / Math.max(program(same), 0.01)).toFixed(2)})`,
      },
      {
        area: "engine", measure: `one-member-change preview: ${size}`, figure: seconds(change.seconds * 1000),
        note: `${oneUpdate ? "plans exactly 1 update" : `PLANS ${change.planned.map((p) => `${p.op} ${p.urn.split("::").pop()}`).slice(0, 5).join("; ") || "nothing"}`}; CPU s: ${cpuText(change.tree)}${N === 1000 ? `; target ≤ 35 s and 1 step: ${change.seconds <= 35 && oneUpdate ? "met" : "MISSED"}` : ""}`,
      },
      {
        area: "engine", measure: `resources per workspace: ${size}`, figure: (perWorkspace / N).toFixed(1),
        note: `${resources} (${count(custom)} custom); ${count(total - perWorkspace)} at organization level`,
      },
      {
        area: "engine", measure: `state bytes per workspace: ${size}`, figure: `${(state / N / 1024).toFixed(1)} KB`,
        note: `state file ${(state / 1e6).toFixed(2)} MB after the first up${N === 1000 ? `; target < 25 MB: ${state < 25e6 ? "met" : "MISSED"}` : ""}`,
      },
    ];
    return rows;
  });
}

export const bench: BenchModule = {
  name: "preview",
  description: "the real engine on the stack program: preview, first up, no-change and one-change preview at each --engine-sizes",
  engine: true,
  async run({ engineSizes, log }) {
    // The first `up` runs as `tenancy apply` runs a plan of creates only: checkpoints skipped
    // (cli/checkpoints.ts). Up to 100 workspaces a checkpointed first `up` runs beside it; at
    // 1,000 that one takes about an hour (the state rewritten after each of ~4,000 steps).
    const rows: Row[] = [];
    for (const workspaces of engineSizes) {
      rows.push(...(await engineRows({ workspaces, members: 10, skipCheckpoints: true }, log)));
      if (workspaces <= 100) rows.push(await checkpointedUpRow(workspaces, log));
    }
    rows.push(...growthRows());
    return rows;
  },
};

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      workspaces: { type: "string", default: "100" },
      members: { type: "string", default: "10" },
      checkpoints: { type: "string", default: "default" },
    },
  });
  if (values.checkpoints !== "default" && values.checkpoints !== "skip") throw new Error('bench: --checkpoints is "default" or "skip"');
  const rows = await engineRows(
    { workspaces: Number(values.workspaces), members: Number(values.members), skipCheckpoints: values.checkpoints === "skip" },
    (line) => process.stderr.write(`${line}\n`),
  );
  process.stdout.write(renderText(rows));
  process.exit(0); // embedded PostgreSQL installs exit hooks
}
