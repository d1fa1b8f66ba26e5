// Many stacks as the scale-out path: K organizations, one stack each, on one PostgreSQL server,
// first applied one after the other and then (on a fresh server, fresh stacks) a bounded number
// at a time, side by side in one run. Each first `up` runs as `tenancy apply` runs a plan of
// creates only: checkpoints skipped (cli/checkpoints.ts). Every dimension grows with the
// workspaces: 10 members each, 5 people per workspace, 1 integration each.
//
//   npm run bench -- --only stacks            (10 organizations × 100 workspaces, 2 at a time)
//   npx tsx bench/stacks.bench.ts --orgs 10 --workspaces 100 --parallel 4
import { chmod, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { dump, load } from "js-yaml";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { configurePostgres, ensureDemoSecrets, openStack } from "../cli/engine.ts";
import { freePort } from "../cli/local/net.ts";
import { ensureAdminRole, ensureLocalPostgres, stopLocalPostgres, type LocalPostgres } from "../cli/local/postgres.ts";
import { loadDeclaration } from "../config/load.ts";
import { generateDeclaration } from "./generate.ts";
import { count, factor, seconds } from "./measure.ts";
import { isMain, renderText, type BenchModule, type Row } from "./table.ts";

const root = join(import.meta.dirname, "..");

export interface StacksBenchOptions {
  readonly orgs: number;
  readonly workspaces: number;
  /** How many stacks apply at once in the parallel run. */
  readonly parallel: number;
}

/** Runs `jobs` with at most `limit` at once; resolves to their results in order. */
async function bounded<T>(jobs: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < jobs.length; i = next++) results[i] = await jobs[i]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

/** One server, `orgs` stacks: their first `up`s `limit` at a time; wall seconds and each up's. */
async function applyOrgs(options: StacksBenchOptions, limit: number, log: (line: string) => void): Promise<{ wall: number; ups: number[]; resources: number }> {
  const dir = await mkdtemp(join(tmpdir(), "tenancy-bench-stacks-"));
  await chmod(dir, 0o755);
  const port = await freePort();
  const stacks: Stack[] = [];
  let server: LocalPostgres | undefined;
  try {
    server = await ensureAdminRole(dir, await ensureLocalPostgres({ root: dir, port }));
    const W = options.workspaces;
    const template = load(generateDeclaration({ workspaces: W, membersPerWorkspace: 10, people: Math.max(5 * W, 10), integrationsPerWorkspace: 1 })) as
      { organization: { slug: string; name: string } };
    for (let k = 0; k < options.orgs; k++) {
      template.organization.slug = `org-${k}`;
      template.organization.name = `Organization ${k}`;
      const text = dump(template, { flowLevel: 4, lineWidth: -1 });
      const file = join(dir, `org-${k}.yaml`);
      await writeFile(file, text);
      const loaded = loadDeclaration(text, file);
      if (!loaded.ok || !loaded.model) throw new Error("bench: the generated declaration must load");
      const { stack } = await openStack({ root, stack: `bench-stacks-${process.pid}-${limit}-${k}`, backendUrl: `file://${dir}`, demo: true }); // throwaway
      await configurePostgres(stack, server);
      await stack.setConfig("tenancy:declaration", { value: file });
      await ensureDemoSecrets(stack, loaded.model);
      stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
      stacks.push(stack);
    }
    let resources = 0;
    const started = performance.now();
    const ups = await bounded(stacks.map((stack) => async () => {
      const t = performance.now();
      const result = await stack.up();
      resources += result.summary.resourceChanges?.create ?? 0;
      const s = (performance.now() - t) / 1000;
      log(`stacks: ${stack.name} first up ${s.toFixed(1)} s (${limit} at a time)`);
      return s;
    }), limit);
    return { wall: (performance.now() - started) / 1000, ups, resources };
  } finally {
    for (const stack of stacks) {
      await stack.workspace.removeStack(stack.name, { force: true }).catch(() => {});
      await unlink(join(root, "stacks", `Pulumi.${stack.name}.yaml`)).catch(() => {});
    }
    if (server) await stopLocalPostgres({ root: dir, port }).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

export async function stacksRows(options: StacksBenchOptions, log: (line: string) => void = () => {}): Promise<Row[]> {
  const size = `${options.orgs} organizations × ${count(options.workspaces)} workspaces × 10 members`;
  const series = await applyOrgs(options, 1, log);
  const parallel = await applyOrgs(options, options.parallel, log);
  const slowest = (ups: number[]) => Math.max(...ups);
  return [
    { area: "stacks", measure: `first apply, one stack per organization, in series: ${size}`, figure: seconds(series.wall * 1000), note: `${count(series.resources)} creates; slowest stack ${slowest(series.ups).toFixed(1)} s; checkpoints skipped (creates only)` },
    {
      area: "stacks", measure: `first apply, ${options.parallel} stacks at a time: ${size}`, figure: seconds(parallel.wall * 1000),
      note: `${factor(series.wall / parallel.wall)} faster than in series; slowest stack ${slowest(parallel.ups).toFixed(1)} s`,
    },
  ];
}

export const bench: BenchModule = {
  name: "stacks",
  description: "organizations as separate stacks on one server: first applies in series vs a bounded number in parallel",
  engine: true,
  async run({ engineSizes, log }) {
    // 10 organizations of 100 workspaces (of the largest engine size when that is smaller); two
    // at a time, one per core.
    return stacksRows({ orgs: 10, workspaces: Math.min(100, Math.max(...engineSizes)), parallel: 2 }, log);
  },
};

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      orgs: { type: "string", default: "10" },
      workspaces: { type: "string", default: "100" },
      parallel: { type: "string", default: "2" },
    },
  });
  const rows = await stacksRows(
    { orgs: Number(values.orgs), workspaces: Number(values.workspaces), parallel: Number(values.parallel) },
    (line) => process.stderr.write(`${line}\n`),
  );
  process.stdout.write(renderText(rows));
  process.exit(0); // embedded PostgreSQL installs exit hooks
}
