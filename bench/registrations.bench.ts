// What each per-workspace registration costs in a no-change preview (issue #18): the stack
// program with one kind of registration left out or moved (bench/registrations/program.ts), each
// variant applied on its own stack, all stacks on one PostgreSQL server and one file backend, then
// no-change previews of every variant back to back, `--rounds` times, CPU seconds per process
// (program, engine, provider), the lowest of the rounds. A kind's cost is the full program's CPU
// minus the variant without it. `flat-aliased` previews the full program's stack with the
// Workspace components gone and aliases in their place: it must plan nothing.
//
//   npx tsx bench/registrations.bench.ts --workspaces 100 [--rounds 2] [--profile DIR]
//
// --profile DIR: one more no-change preview of the full program under a V8 CPU profile, the
// program's profile summarised (self time by function and by area) and left in DIR.
//
// Measured 2026-12-04, 100 workspaces × 10 members, 1 integration each (405 resources), 2 cores
// at load average ~15, no-change preview, CPU s per process, lowest of 2 rounds; a kind's cost is
// `full` minus the variant without it, per 100 workspaces (two runs of the bench: A, B):
//
//   registration (per workspace)        program      engine       provider
//   full program (405 steps)            4.56 | 4.33  1.39 | 1.37  1.84 | 1.80
//   Workspace component, all of it      0.43 | 0.26  0.06 | 0.09  0.04 | 0.00
//     of which its registerOutputs      0.21 | 0.19  0.09 |~0     0.01 |~0
//   WorkspaceRecord                     0.85 | 0.62  0.24 | 0.16  0.25 | 0.21
//   WorkspaceCredentials                0.82 | 0.74  0.21 | 0.21  0.53 | 0.52
//   WorkspaceBoundary                   1.12 | 0.87  0.53 | 0.53  0.52 | 0.47
//   left: startup, tsx, validation,     1.34 | 1.84
//     the 5 organization-level resources
//
// At 300 workspaces (1,205 resources, with the lazy leak stacks below; one run, lowest of 2), for
// all 300 workspaces: full program 6.25 / engine 3.50 / provider 3.42; component 0.93 / 0.20 /
// ~0 (of which outputs 0.23 / 0.16 / ~0); record 0.79 / 0.62 / 0.30; credentials 1.06 / 0.61 /
// 1.02; boundary 1.44 / 1.62 / 1.02. flat-aliased: 300 component deletes, 0 other changes.
//
// A custom resource costs the program 6–11 ms per workspace, the component 3–4 ms; the provider
// pays for check+diff of each custom resource, nothing for the component. The Workspace component
// cannot go without a change to applied stacks: `flat-aliased` (aliases to the old parent) keeps
// the 300 custom resources' URNs (0 changes to them) but plans 100 deletes of the components, which
// are protected; it would need a one-time unprotect + state-only delete migration, and the policy
// pack reads the components' registered outputs. It saves ~0.3–0.4 s of ~7.8 s CPU: not done.
// The program's CPU profile (--profile) put a sixth of it in formatting the SDK's stack capture of
// every output property (debuggablePromise, kept only for the leaked-promise report); the preload
// now formats those only when the report reads them. The real program (index.ts), no-change preview
// at 100 workspaces, old vs new preload alternating on one stack, 7 pairs in 2 runs: program CPU
// median 4.13 → 3.63 s, lowest 3.73 → 3.31 s (−11–12%); the new one lower in every pair.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation/index.js";
import { configurePostgres, ensureDemoSecrets, openStack, runPulumi } from "../cli/engine.ts";
import { freePort } from "../cli/local/net.ts";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres } from "../cli/local/postgres.ts";
import { loadDeclaration } from "../config/load.ts";
import { generateDeclaration } from "./generate.ts";
import { count } from "./measure.ts";
import { sampleProcesses } from "./process-tree.ts";
import { isMain, renderText, type BenchModule, type Row } from "./table.ts";

const project = join(import.meta.dirname, "registrations");
/** Applied, each on its own stack. */
const APPLIED = ["full", "no-component", "no-outputs", "no-record", "no-credentials", "no-boundary"] as const;
const PARTS = [["node run", "program"], ["pulumi", "engine"], ["node main.mjs", "provider"], ["node main.js", "provider"]] as const;

interface Cpu { program: number; engine: number; provider: number; changes: number; steps: number; ops: Map<string, number> }

async function measurePreview(stack: Stack, variant: string): Promise<Cpu> {
  stack.workspace.envVars.TENANCY_BENCH_VARIANT = variant;
  let changes = 0, steps = 0;
  const ops = new Map<string, number>();
  const sampler = sampleProcesses([process.pid]);
  await stack.preview({
    onEvent: (e: EngineEvent) => {
      const m = e.resourcePreEvent?.metadata;
      if (!m) return;
      steps++;
      if (m.op === "same") return;
      changes++;
      const what = `${m.op} ${m.type}`;
      ops.set(what, (ops.get(what) ?? 0) + 1);
    },
  });
  const tree = sampler.stop();
  if (process.env.TENANCY_BENCH_LABELS) process.stderr.write(`  ${[...tree.byLabel].map(([l, v]) => `${l} ${v.cpuSeconds.toFixed(2)}`).join(", ")}\n`);
  const cpu = { program: 0, engine: 0, provider: 0, changes, steps, ops };
  for (const [label, part] of PARTS) cpu[part] += tree.byLabel.get(label)?.cpuSeconds ?? 0;
  return cpu;
}

export async function registrationRows(options: { workspaces: number; rounds: number; profile?: string }, log: (line: string) => void): Promise<Row[]> {
  const N = options.workspaces;
  const dir = await mkdtemp(join(tmpdir(), "tenancy-bench-registrations-"));
  await chmod(dir, 0o755);
  const port = await freePort();
  const stacks = new Map<string, Stack>();
  try {
    const server = await ensureAdminRole(dir, await ensureLocalPostgres({ root: dir, port }));
    const text = generateDeclaration({ workspaces: N, membersPerWorkspace: 10, people: Math.max(5 * N, 10), integrationsPerWorkspace: 1 });
    const file = join(dir, "tenancy.yaml");
    await writeFile(file, text);
    const loaded = loadDeclaration(text, file);
    if (!loaded.ok || !loaded.model) throw new Error("bench: the generated declaration must load");
    for (const variant of APPLIED) {
      const { stack } = await openStack({ root: project, stack: `reg-${process.pid}-${variant}`, backendUrl: `file://${dir}` });
      stacks.set(variant, stack);
      await configurePostgres(stack, server);
      await stack.setConfig("tenancy:declaration", { value: file });
      await ensureDemoSecrets(stack, loaded.model);
      stack.workspace.envVars.TENANCY_BENCH_VARIANT = variant;
      stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
      const start = performance.now();
      await stack.up();
      delete stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS;
      log(`registrations: ${variant} applied (${((performance.now() - start) / 1000).toFixed(0)} s)`);
    }
    const previews = APPLIED.map((v) => [v, v] as const);
    const best = new Map<string, Cpu>();
    for (let round = 0; round < options.rounds; round++) {
      for (const [stackOf, variant] of previews) {
        const cpu = await measurePreview(stacks.get(stackOf)!, variant);
        log(`registrations: round ${round + 1} ${variant}: ${cpu.changes} changes of ${cpu.steps}; cpu s program ${cpu.program.toFixed(2)}, engine ${cpu.engine.toFixed(2)}, provider ${cpu.provider.toFixed(2)}`);
        const old = best.get(variant);
        best.set(variant, old ? { ...cpu, program: Math.min(old.program, cpu.program), engine: Math.min(old.engine, cpu.engine), provider: Math.min(old.provider, cpu.provider), changes: Math.max(old.changes, cpu.changes) } : cpu);
      }
    }
    if (options.profile) await profileFull(stacks.get("full")!, options.profile, log);
    // The Workspace components are protected, and a component gone from the program is deleted
    // (from the state only): removing them needs them unprotected first, in a one-time migration.
    await runPulumi(stacks.get("full")!, ["state", "unprotect", "--all", "--yes"]);
    const flat = await measurePreview(stacks.get("full")!, "flat-aliased");
    log(`registrations: flat-aliased on the full stack: ${[...flat.ops].map(([k, n]) => `${n} ${k}`).join(", ") || "nothing"}; cpu s program ${flat.program.toFixed(2)}, engine ${flat.engine.toFixed(2)}, provider ${flat.provider.toFixed(2)}`);
    best.set("flat-aliased (migration from full)", flat);
    const full = best.get("full")!;
    const f = (s: number) => s.toFixed(2);
    const d = (s: number) => (s >= 0 ? `+${s.toFixed(2)}` : s.toFixed(2));
    const size = `${count(N)} workspaces × 10 members`;
    return [...best].map(([variant, c]) => ({
      area: "registrations",
      measure: `no-change preview, ${variant}: ${size} (${count(c.steps)} steps)`,
      figure: `${f(c.program + c.engine + c.provider)} s CPU`,
      note: `${c.changes === 0 ? "plans nothing" : `plans ${[...c.ops].map(([k, n]) => `${n} ${k}`).join(", ")}`}; program ${f(c.program)}, engine ${f(c.engine)}, provider ${f(c.provider)}` +
        (variant === "full" ? "" : `; full minus this: program ${d(full.program - c.program)}, engine ${d(full.engine - c.engine)}, provider ${d(full.provider - c.provider)}`),
    }));
  } finally {
    for (const [variant, stack] of stacks) {
      await stack.workspace.removeStack(stack.name, { force: true }).catch((e: unknown) => log(`bench: removing stack ${variant}: ${String(e)}`));
      await unlink(join(project, `Pulumi.${stack.name}.yaml`)).catch(() => {});
    }
    await stopLocalPostgres({ root: dir, port }).catch((e: unknown) => log(`bench: stopping PostgreSQL: ${String(e)}`));
    await rm(dir, { recursive: true, force: true });
  }
}

/** A no-change preview of the full program under `node --cpu-prof`; the program's profile summarised. */
async function profileFull(stack: Stack, out: string, log: (line: string) => void): Promise<void> {
  const before = new Set(await readdir(out).catch(() => [] as string[]));
  await mkdir(out, { recursive: true });
  stack.workspace.envVars.TENANCY_BENCH_CPU_PROFILE = out;
  try { await measurePreview(stack, "full"); } finally { delete stack.workspace.envVars.TENANCY_BENCH_CPU_PROFILE; }
  for (const name of (await readdir(out)).filter((n) => n.endsWith(".cpuprofile") && !before.has(n))) {
    const summary = summariseProfile(JSON.parse(await readFile(join(out, name), "utf8")) as Profile);
    if (!summary.program) continue;
    log(`registrations: program profile ${join(out, name)}: ${summary.total.toFixed(2)} s sampled`);
    for (const line of summary.lines) log(`  ${line}`);
  }
}

interface Profile { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[]; timeDeltas: number[] }

/** Self time by function (top 25) and by area (file groups) of a V8 CPU profile. */
export function summariseProfile(p: Profile): { program: boolean; total: number; lines: string[] } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1e6));
  const program = p.nodes.some((n) => n.callFrame.url.includes("/cmd/run/"));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const [id, s] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += s;
    const short = url.replace(/^file:\/\//, "").replace(/.*node_modules\//, "").replace(/.*\/wt\/[^/]+\//, "");
    byFunction.set(`${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`, (byFunction.get(`${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`) ?? 0) + s);
    byArea.set(areaOf(short, functionName), (byArea.get(areaOf(short, functionName)) ?? 0) + s);
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, s]) => `${s.toFixed(2)} s ${(100 * s / total).toFixed(0)}% ${k}`);
  return { program, total, lines: ["by area:", ...top(byArea, 20), "by function:", ...top(byFunction, 25)] };
}

function areaOf(file: string, fn: string): string {
  if (file === "") return `(native) ${fn}`;
  if (file.startsWith("node:")) return file;
  const m = /^(@pulumi\/pulumi\/[\w-]+(?:\/[\w-]+\.js)?|@grpc\/[\w-]+|google-protobuf|@opentelemetry|protobufjs|tsx|source-map-support|[\w@.-]+)/.exec(file);
  return m?.[1] ?? file;
}

export const bench: BenchModule = {
  name: "registrations",
  description: "no-change preview CPU per process with one kind of per-workspace registration left out (#18)",
  engine: true,
  async run({ engineSizes, log }) {
    const rows: Row[] = [];
    for (const workspaces of engineSizes.filter((n) => n <= 300)) rows.push(...(await registrationRows({ workspaces, rounds: 2 }, log)));
    return rows;
  },
};

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { workspaces: { type: "string", default: "100" }, rounds: { type: "string", default: "2" }, profile: { type: "string" } } });
  const rows = await registrationRows(
    { workspaces: Number(values.workspaces), rounds: Number(values.rounds), ...(values.profile ? { profile: values.profile } : {}) },
    (line) => process.stderr.write(`${line}\n`),
  );
  process.stdout.write(renderText(rows));
  process.exit(0); // embedded PostgreSQL installs exit hooks
}
