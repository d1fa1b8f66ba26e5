// `tenancy validate` in-process at 1,000 and 10,000 workspaces (5 members each), side by side
// in one run: the valid file, the error path (thousands of violations located), and a file over
// the size limit. Issue 9's targets: ×10 workspaces costs at most ×12, and 10,000 workspaces
// validate in under 1 s. `npx tsx bench/validate.bench.ts` prints the rows on their own.
import { MAX_DECLARATION_BYTES } from "../config/load.ts";
import { checkDeclaration } from "../policies/declaration.ts";
import { generateDeclaration } from "./generate.ts";
import { count, cpuMs, factor, median, seconds } from "./measure.ts";
import { isMain, renderText, type BenchModule, type Row } from "./table.ts";

const RUNS = 5;
const MEMBERS = 5;

interface Timing { readonly wall: number; readonly cpu: number; readonly violations: number }

function measure(text: string, expected: number): Timing {
  checkDeclaration(text, "bench.yaml"); // warm-up
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const [w, c] = [performance.now(), cpuMs()];
    const report = checkDeclaration(text, "bench.yaml");
    wall.push(performance.now() - w);
    cpu.push(cpuMs() - c);
    if (report.violations.length !== expected) throw new Error(`bench: expected ${expected} violations, got ${report.violations.length}: ${report.violations[0]?.message}`);
  }
  return { wall: median(wall), cpu: median(cpu), violations: expected };
}

export async function validateRows(log: (line: string) => void = () => {}): Promise<Row[]> {
  const rows: Row[] = [];
  const sizes = [1_000, 10_000];
  const valid: Timing[] = [];
  const broken: Timing[] = [];
  for (const workspaces of sizes) {
    log(`validate: ${count(workspaces)} workspaces`);
    const text = generateDeclaration({ workspaces, membersPerWorkspace: MEMBERS });
    // Every editor given a role the catalogue lacks: 2 violations per workspace, each located.
    const bad = text.replaceAll("role: editor}", "role: owner}");
    valid.push(measure(text, 0));
    broken.push(measure(bad, 2 * workspaces));
    const mb = (text.length / 1e6).toFixed(1);
    rows.push({
      area: "validate", measure: `${count(workspaces)} workspaces × ${MEMBERS} members, valid (${mb} MB, in-process)`,
      figure: seconds(valid.at(-1)!.wall), note: `CPU ${seconds(valid.at(-1)!.cpu)}; median of ${RUNS}${workspaces === 10_000 ? `; target < 1 s: ${valid.at(-1)!.wall < 1000 ? "met" : "MISSED"}` : ""}`,
    });
    rows.push({
      area: "validate", measure: `${count(workspaces)} workspaces × ${MEMBERS} members, ${count(2 * workspaces)} violations located`,
      figure: seconds(broken.at(-1)!.wall), note: `CPU ${seconds(broken.at(-1)!.cpu)}`,
    });
  }
  const growth = valid[1]!.wall / valid[0]!.wall;
  const cpuGrowth = valid[1]!.cpu / valid[0]!.cpu;
  rows.push({ area: "validate", measure: "growth ×10 workspaces, valid file", figure: factor(growth), note: `CPU ${factor(cpuGrowth)}; target ≤ ×12: ${growth <= 12 ? "met" : "MISSED"}` });
  rows.push({ area: "validate", measure: "growth ×10 workspaces, violations located", figure: factor(broken[1]!.wall / broken[0]!.wall), note: `CPU ${factor(broken[1]!.cpu / broken[0]!.cpu)}` });

  const huge = `version: 1\n#${"x".repeat(MAX_DECLARATION_BYTES)}\n`;
  const start = performance.now();
  const refused = checkDeclaration(huge, "huge.yaml");
  if (refused.violations.length !== 1) throw new Error("bench: the oversized declaration was not refused");
  rows.push({ area: "validate", measure: `declaration over the ${MAX_DECLARATION_BYTES / 1024 ** 2} MiB limit refused`, figure: seconds(performance.now() - start), note: "a file is refused from its size before it is read" });
  return rows;
}

export const bench: BenchModule = {
  name: "validate",
  description: "validate in-process at 1,000 and 10,000 workspaces: valid, with violations, over the size limit",
  run: ({ log }) => validateRows(log),
};

if (isMain(import.meta.url)) {
  process.stdout.write(renderText(await validateRows((line) => process.stderr.write(`${line}\n`))));
}
