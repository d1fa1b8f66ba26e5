// npx tsx bench/preview.bench.ts [--workspaces 100] [--members 10] [--checkpoints skip|default]
// The real engine on the real stack program at scale: preview, up, no-change preview and up, and a
// one-member change, side by side in one run. Everything lives in a throwaway directory (state,
// embedded PostgreSQL, declaration) and a throwaway stack; .tenancy/ and the demo stacks are untouched.
import { chmod, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { load, dump } from "js-yaml";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation/index.js";
import { configurePostgres, ensureDemoSecrets, openStack } from "../cli/engine.ts";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres } from "../cli/local/postgres.ts";
import { loadDeclaration } from "../config/load.ts";
import { generateDeclaration } from "./generate.ts";
import { sampleProcesses, type TreeSample } from "./process-tree.ts";
import { freePort } from "../cli/local/net.ts";

const root = join(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    workspaces: { type: "string", default: "100" },
    members: { type: "string", default: "10" },
    // PULUMI_SKIP_CHECKPOINTS=true for the first up only: at 20 workspaces (425 resources) the
    // first up took 127 s with checkpoints, 22 s without. The engine rewrites the whole state
    // after every step, and each dynamic resource carries its provider's code (~24 KB), so the
    // default costs O(resources x state size). `--checkpoints default` measures it anyway.
    checkpoints: { type: "string", default: "skip" },
  },
});
const N = Number(args.workspaces);
const M = Number(args.members);
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(M) || M < 2) throw new Error("bench: --workspaces must be >= 1 and --members >= 2 (one admin, one member to change)");
if (args.checkpoints !== "default" && args.checkpoints !== "skip") throw new Error('bench: --checkpoints is "default" or "skip"');

interface Planned { readonly op: string; readonly urn: string; readonly custom: boolean }
interface StepResult {
  readonly label: string;
  readonly seconds: number;
  /** Non-"same" steps the engine reported, from resourcePreEvent. */
  readonly planned: Planned[];
  readonly ops: Record<string, number>;
  /** Seconds from the call to the first resource event: CLI, language host, program start. */
  readonly toFirst: number;
  /** Seconds from the first to the last resource event: registration, check/diff, apply. */
  readonly registering: number;
  readonly load1: number;
  readonly benchCpu: number;
  readonly tree: TreeSample;
}

async function postmasterPid(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, ".tenancy", "postgres", "data", "postmaster.pid"), "utf8").catch(() => "");
  const pid = Number(text.split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? [pid] : [];
}

async function measure(label: string, roots: number[], run: (onEvent: (e: EngineEvent) => void) => Promise<unknown>): Promise<StepResult> {
  const planned: Planned[] = [];
  const ops: Record<string, number> = {};
  let first = 0;
  let last = 0;
  const sampler = sampleProcesses([process.pid, ...roots]);
  const cpu = process.cpuUsage();
  const start = performance.now();
  await run((event) => {
    const step = event.resourcePreEvent?.metadata ?? event.resOutputsEvent?.metadata;
    if (!step) return;
    const now = performance.now();
    first ||= now;
    last = now;
    if (!event.resourcePreEvent || step.op === "same") return;
    ops[step.op] = (ops[step.op] ?? 0) + 1;
    planned.push({ op: step.op, urn: step.urn, custom: (step.new ?? step.old)?.custom ?? false });
  });
  const end = performance.now();
  const used = process.cpuUsage(cpu);
  return {
    label, planned, ops,
    seconds: (end - start) / 1000,
    toFirst: ((first || end) - start) / 1000,
    registering: ((last || end) - (first || end)) / 1000,
    load1: loadavg()[0]!,
    benchCpu: (used.user + used.system) / 1e6,
    tree: sampler.stop(),
  };
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

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const opsText = (ops: Record<string, number>) => Object.entries(ops).map(([op, n]) => `${op} ${n}`).join(", ") || "none";

function printStep(r: StepResult): void {
  const cpu = [...r.tree.byLabel].filter(([, v]) => v.cpuSeconds >= 0.05).sort((a, b) => b[1].cpuSeconds - a[1].cpuSeconds)
    .map(([k, v]) => `${k} ${fmt(v.cpuSeconds)}`).join(", ");
  console.log(`${r.label.padEnd(34)} ${fmt(r.seconds).padStart(7)} s  ${opsText(r.ops).padEnd(22)} start ${fmt(r.toFirst).padStart(5)} s  resources ${fmt(r.registering).padStart(6)} s  load1 ${fmt(r.load1, 2)}`);
  console.log(`${"".padEnd(34)}   cpu s: bench ${fmt(r.benchCpu)}, ${cpu}; peak RSS: engine processes ${fmt(r.tree.peakMb, 0)} MB, postgres ${fmt(r.tree.postgresPeakMb, 0)} MB`);
}

const dir = await mkdtemp(join(tmpdir(), "tenancy-preview-bench-"));
await chmod(dir, 0o755); // the server's own folder inside stays private (0700, postgres-owned)
const port = await freePort();
const stackName = `bench-${process.pid}`;
let stack: Stack | undefined;
try {
  const loadBefore = loadavg();
  const setupStart = performance.now();
  const text = generateDeclaration({ workspaces: N, membersPerWorkspace: M });
  const file = join(dir, "tenancy.yaml");
  await writeFile(file, text);
  const loaded = loadDeclaration(text, file);
  if (!loaded.ok || !loaded.model) throw new Error("bench: the generated declaration must load");
  const server = await ensureAdminRole(dir, await ensureLocalPostgres({ root: dir, port }));
  const opened = await openStack({ root, stack: stackName, backendUrl: `file://${dir}` });
  stack = opened.stack;
  await configurePostgres(stack, server);
  await stack.setConfig("tenancy:declaration", { value: file });
  await ensureDemoSecrets(stack, loaded.model);
  const setupSeconds = (performance.now() - setupStart) / 1000;
  const roots = await postmasterPid(dir);

  const memberships = loaded.model.workspaces.reduce((n, ws) => n + ws.members.length, 0);
  console.log(`tenancy preview/up at scale: ${N} workspaces x ${M} members (${memberships} memberships, ${loaded.model.organization?.people.length ?? 0} people), declaration ${fmt(text.length / 1024)} KB`);
  console.log(`engine: pulumi ${opened.toolchain.pulumi}, nodejs language host ${opened.toolchain.languageHost}; first up with ${args.checkpoints === "skip" ? "PULUMI_SKIP_CHECKPOINTS=true" : "default checkpoints"}`);
  console.log(`load average before: ${loadBefore.map((l) => fmt(l, 2)).join(" ")} (${availableParallelism()} cores); setup (server, stack, config) ${fmt(setupSeconds)} s\n`);

  const s = stack;
  const preview = await measure("1 preview, fresh stack", roots, (onEvent) => s.preview({ onEvent }));
  printStep(preview);
  if (args.checkpoints === "skip") s.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
  const up = await measure(`2 up${args.checkpoints === "skip" ? " (skip checkpoints)" : ""}`, roots, (onEvent) => s.up({ onEvent }));
  delete s.workspace.envVars.PULUMI_SKIP_CHECKPOINTS;
  printStep(up);
  const state = await stateBytes(dir, stackName);
  const same = await measure("3 preview, no changes", roots, (onEvent) => s.preview({ onEvent }));
  printStep(same);
  const upSame = await measure("4 up, no changes", roots, (onEvent) => s.up({ onEvent }));
  printStep(upSame);
  await writeFile(file, oneRoleChanged(text));
  const change = await measure("5 preview, one role changed", roots, (onEvent) => s.preview({ onEvent }));
  printStep(change);

  const total = preview.planned.length;
  const custom = preview.planned.filter((p) => p.custom).length;
  const perWorkspace = preview.planned.filter((p) => inWorkspace(p.urn)).length;
  console.log(`\nresources planned by the fresh preview: ${total} (${custom} custom, ${total - custom} components and stack)`);
  console.log(`  organization-level ${total - perWorkspace}; in workspaces ${perWorkspace} = ${fmt(perWorkspace / N)} per workspace; total / N = ${fmt(total / N)}`);
  console.log(`preview time per 100 resources: fresh ${fmt((preview.seconds / total) * 100, 2)} s, no changes ${fmt((same.seconds / total) * 100, 2)} s, one change ${fmt((change.seconds / total) * 100, 2)} s; up ${fmt((up.seconds / total) * 100, 2)} s`);
  console.log(`state file after up: ${fmt(state / 1e6, 2)} MB (${fmt(state / total / 1024)} KB per resource)`);
  const noChange = Object.keys(same.ops).length === 0 && Object.keys(upSame.ops).length === 0;
  console.log(`no-change preview and up plan nothing: ${noChange ? "yes" : `NO (${opsText(same.ops)} / ${opsText(upSame.ops)})`}`);
  const oneUpdate = change.planned.length === 1 && change.planned[0]!.op === "update";
  console.log(`one role change plans exactly 1 update: ${oneUpdate ? "yes" : "NO"} (${change.planned.map((p) => `${p.op} ${p.urn.split("::").pop()}`).slice(0, 10).join("; ") || "nothing"})`);
  const steps = [preview, up, same, upSame, change];
  const peak = Math.max(...steps.map((r) => r.tree.peakMb));
  const perProcess = new Map<string, number>();
  for (const r of steps) for (const [k, v] of r.tree.byLabel) if (k !== "postgres") perProcess.set(k, Math.max(perProcess.get(k) ?? 0, v.peakMb));
  const largest = [...perProcess].filter(([, mb]) => mb >= 20).sort((a, b) => b[1] - a[1]).map(([k, mb]) => `${k} ${fmt(mb, 0)}`).join(", ");
  console.log(`peak RSS: bench process ${fmt(process.resourceUsage().maxRSS / 1024, 0)} MB; engine processes together ${fmt(peak, 0)} MB; largest single process, MB: ${largest}`);
  console.log(`load average after: ${loadavg().map((l) => fmt(l, 2)).join(" ")}`);
} finally {
  // Destroy is refused (workspaces are protected): drop the stack and its state, stop the server.
  await stack?.workspace.removeStack(stackName, { force: true }).catch((e: unknown) => console.error(`bench: removing stack ${stackName}: ${String(e)}`));
  await unlink(join(root, "stacks", `Pulumi.${stackName}.yaml`)).catch(() => {});
  await stopLocalPostgres({ root: dir, port }).catch((e: unknown) => console.error(`bench: stopping PostgreSQL: ${String(e)}`));
  await rm(dir, { recursive: true, force: true });
}
