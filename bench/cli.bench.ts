// CLI start-up as a user meets it: `tenancy --help` and `tenancy validate` of a small file from
// the compiled bin (dist/), side by side with bare `node` and with the old way (TypeScript
// through tsx at every start). Issue 9's target: `tenancy --help` under 0.3 s.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, seconds } from "./measure.ts";
import { isMain, renderText, type BenchModule, type Row } from "./table.ts";

const root = join(fileURLToPath(import.meta.url), "../..");
const RUNS = 7;

function wall(args: readonly string[]): number {
  const start = performance.now();
  execFileSync(process.execPath, args, { cwd: root, stdio: "ignore" });
  return performance.now() - start;
}

export async function cliRows(log: (line: string) => void = () => {}): Promise<Row[]> {
  const bin = join(root, "dist", "cli", "tenancy.js");
  if (!existsSync(bin)) {
    log("cli: building dist/ first (npm run build)");
    execFileSync(process.execPath, [join(root, "scripts", "build.mjs")], { cwd: root, stdio: "inherit" });
  }
  const commands = {
    node: ["-e", "0"],
    help: [bin, "--help"],
    validate: [bin, "validate", "stacks/dev/tenancy.yaml"],
    helpFromSource: ["--import", "tsx", join(root, "cli", "tenancy.ts"), "--help"],
  } as const;
  const times: Record<keyof typeof commands, number[]> = { node: [], help: [], validate: [], helpFromSource: [] };
  log(`cli: ${RUNS} runs of each command, interleaved`);
  for (let i = 0; i < RUNS; i++) {
    for (const [name, args] of Object.entries(commands)) times[name as keyof typeof commands].push(wall(args));
  }
  const node = median(times.node);
  const help = median(times.help);
  return [
    { area: "cli", measure: "`tenancy --help` (compiled bin, process start to exit)", figure: seconds(help), note: `target < 0.3 s: ${help < 300 ? "met" : "MISSED"}; node alone (\`node -e 0\`) ${seconds(node)}, so the toolkit adds ${seconds(help - node)}` },
    { area: "cli", measure: "`tenancy validate stacks/dev/tenancy.yaml` (compiled bin)", figure: seconds(median(times.validate)), note: `node alone ${seconds(node)}` },
    { area: "cli", measure: "`tenancy --help` from the TypeScript sources through tsx (before the build)", figure: seconds(median(times.helpFromSource)), note: `the compiled bin is ×${(median(times.helpFromSource) / help).toFixed(1)} faster` },
  ];
}

export const bench: BenchModule = {
  name: "cli",
  description: "CLI start-up: tenancy --help and tenancy validate of a small file",
  run: ({ log }) => cliRows(log),
};

if (isMain(import.meta.url)) {
  process.stdout.write(renderText(await cliRows((line) => process.stderr.write(`${line}\n`))));
}
