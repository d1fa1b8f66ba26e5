// The first `up` of one generated organization (checkpoints skipped, as `tenancy apply` runs a
// plan of creates), once with the provider connecting as the embedded setup's CREATEROLE admin
// and once, on a fresh server and stack, as the superuser, side by side in one run, with CPU
// seconds per process. A diagnostic, not a target: it shows how much of PostgreSQL's CPU is the
// admin's role memberships (a superuser skips membership checks; README, "Why the first `up`
// misses from 1,000 to 3,000"). The provider runs as the admin everywhere else.
//
//   npx tsx bench/admin-vs-superuser.ts --workspaces 1000
import { parseArgs } from "node:util";
import { configurePostgres } from "../cli/engine.ts";
import { ensureLocalPostgres } from "../cli/local/postgres.ts";
import { withBenchStack } from "./engine-stack.ts";
import { count, factor, seconds } from "./measure.ts";
import { cpuText, measure, postmasterPid } from "./preview.bench.ts";
import { renderText, type Row } from "./table.ts";

const { values } = parseArgs({ options: { workspaces: { type: "string", default: "1000" } } });
const N = Number(values.workspaces);
if (!Number.isInteger(N) || N < 1) throw new Error("bench: --workspaces takes a whole number");
const log = (line: string) => process.stderr.write(`${line}\n`);

async function firstUp(superuser: boolean): Promise<Awaited<ReturnType<typeof measure>>> {
  const declaration = { workspaces: N, membersPerWorkspace: 10, people: 5 * N, integrationsPerWorkspace: 1 };
  return withBenchStack("bench-admin", declaration, log, async ({ dir, stack, server }) => {
    // The running server's superuser, as ensureLocalPostgres returns it for a server it reuses.
    if (superuser) await configurePostgres(stack, { ...(await ensureLocalPostgres({ root: dir, port: server.port })), database: server.database });
    stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
    const result = await measure(await postmasterPid(dir), (onEvent) => stack.up({ onEvent }));
    log(`${superuser ? "superuser" : "admin"}: first up ${seconds(result.seconds * 1000)}`);
    return result;
  });
}

const admin = await firstUp(false);
const superuser = await firstUp(true);
const postgres = (r: typeof admin) => r.tree.byLabel.get("postgres")?.cpuSeconds ?? 0;
const size = `${count(N)} workspaces × 10 members, ${count(5 * N)} people`;
const rows: Row[] = [
  { area: "engine", measure: `first \`up\` as the CREATEROLE admin: ${size}`, figure: seconds(admin.seconds * 1000), note: `CPU s: ${cpuText(admin.tree)}` },
  { area: "engine", measure: `first \`up\` as the superuser: ${size}`, figure: seconds(superuser.seconds * 1000), note: `CPU s: ${cpuText(superuser.tree)}` },
  { area: "engine", measure: "PostgreSQL CPU, admin / superuser", figure: factor(postgres(admin) / postgres(superuser)), note: `${(postgres(admin) - postgres(superuser)).toFixed(1)} s more as the admin` },
];
process.stdout.write(renderText(rows));
process.exit(0);
