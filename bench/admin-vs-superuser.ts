// The first `up` of one generated organization (checkpoints skipped, as `tenancy apply` runs a
// plan of creates), once with the provider connecting as the embedded setup's CREATEROLE admin
// and once, on a fresh server and stack, as the superuser, side by side in one run, with CPU
// seconds per process. A diagnostic, not a target: it shows how much of PostgreSQL's CPU is the
// admin's role memberships (a superuser skips membership checks; README, "Why the first `up`
// misses from 1,000 to 3,000"). The provider runs as the admin everywhere else.
//
//   npx tsx bench/admin-vs-superuser.ts --workspaces 1000
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { configurePostgres } from "../cli/engine.ts";
import { withBenchStack } from "./engine-stack.ts";
import { count, factor, seconds } from "./measure.ts";
import { sampleProcesses } from "./process-tree.ts";
import { renderText, type Row } from "./table.ts";

const { values } = parseArgs({ options: { workspaces: { type: "string", default: "1000" } } });
const N = Number(values.workspaces);
if (!Number.isInteger(N) || N < 1) throw new Error("bench: --workspaces takes a whole number");
const log = (line: string) => process.stderr.write(`${line}\n`);
const LABELS: [string, string][] = [["node run", "program"], ["pulumi", "engine"], ["node main.mjs", "provider"], ["postgres", "postgres"]];

async function firstUp(superuser: boolean): Promise<{ seconds: number; cpu: Map<string, number> }> {
  const declaration = { workspaces: N, membersPerWorkspace: 10, people: 5 * N, integrationsPerWorkspace: 1 };
  return withBenchStack("bench-admin", declaration, log, async ({ dir, stack, server }) => {
    const base = join(dir, ".tenancy", "postgres");
    if (superuser) {
      const su = JSON.parse(await readFile(join(base, "superuser.json"), "utf8")) as { user: string; password: string };
      await configurePostgres(stack, { ...server, user: su.user, password: su.password });
    }
    const postmaster = Number((await readFile(join(base, "data", "postmaster.pid"), "utf8")).split("\n")[0]);
    stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
    const sampler = sampleProcesses([process.pid, postmaster]);
    const start = performance.now();
    await stack.up();
    const tree = sampler.stop();
    const cpu = new Map(LABELS.map(([label, name]) => [name, tree.byLabel.get(label)?.cpuSeconds ?? 0]));
    const result = { seconds: (performance.now() - start) / 1000, cpu };
    log(`${superuser ? "superuser" : "admin"}: first up ${seconds(result.seconds * 1000)}`);
    return result;
  });
}

const admin = await firstUp(false);
const superuser = await firstUp(true);
const cpuText = (r: typeof admin) => [...r.cpu].map(([name, s]) => `${name} ${s.toFixed(1)}`).join(", ");
const size = `${count(N)} workspaces × 10 members, ${count(5 * N)} people`;
const rows: Row[] = [
  { area: "engine", measure: `first \`up\` as the CREATEROLE admin: ${size}`, figure: seconds(admin.seconds * 1000), note: `CPU s: ${cpuText(admin)}` },
  { area: "engine", measure: `first \`up\` as the superuser: ${size}`, figure: seconds(superuser.seconds * 1000), note: `CPU s: ${cpuText(superuser)}` },
  { area: "engine", measure: "PostgreSQL CPU, admin / superuser", figure: factor(admin.cpu.get("postgres")! / superuser.cpu.get("postgres")!), note: `${(admin.cpu.get("postgres")! - superuser.cpu.get("postgres")!).toFixed(1)} s more as the admin` },
];
process.stdout.write(renderText(rows));
process.exit(0);
