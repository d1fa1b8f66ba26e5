// npm run bench: every bench in one run, one table with the machine it ran on, written to
// BENCHMARKS.md. Not part of `npm test`.
//
//   npm run bench                          every bench, then BENCHMARKS.md is rewritten
//   npm run bench -- --only validate,cli   some benches; BENCHMARKS.md is left alone (--write to force)
//   npm run bench -- --engine-sizes 10,100,1000   workspace counts for the engine benches
//
// Adding a bench: a module exporting `bench: BenchModule` (bench/table.ts) whose run() returns
// rows, listed in BENCHES below. Modules are imported only when they run.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeMachine, machine, renderMarkdown, renderText, type BenchModule, type Row } from "./table.ts";

const BENCHES: readonly { name: string; load: () => Promise<{ bench: BenchModule }> }[] = [
  { name: "validate", load: () => import("./validate.bench.ts") },
  { name: "plan", load: () => import("./plan.bench.ts") },
  { name: "rules", load: () => import("./rules.bench.ts") },
  { name: "cli", load: () => import("./cli.bench.ts") },
  { name: "policy-pack", load: () => import("./policy-pack.bench.ts") },
  { name: "audit", load: () => import("./audit.bench.ts") },
  { name: "preview", load: () => import("./preview.bench.ts") },
];

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    "engine-sizes": { type: "string", default: "10,100" },
    write: { type: "boolean", default: false },
    "no-write": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(`usage: npm run bench -- [--only ${BENCHES.map((b) => b.name).join(",")}] [--engine-sizes 10,100,1000] [--write|--no-write]`);
  process.exit(0);
}
const only = values.only?.split(",").map((s) => s.trim()).filter(Boolean);
const unknown = only?.filter((name) => !BENCHES.some((b) => b.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(`bench: no bench named ${unknown.join(", ")}; known: ${BENCHES.map((b) => b.name).join(", ")}`);
  process.exit(2);
}
const engineSizes = values["engine-sizes"].split(",").map(Number);
if (engineSizes.some((n) => !Number.isInteger(n) || n <= 0)) {
  console.error(`bench: --engine-sizes takes workspace counts like 10,100,1000; got ${values["engine-sizes"]}`);
  process.exit(2);
}

const m = machine();
const log = (line: string) => process.stderr.write(`${line}\n`);
log(`machine: ${describeMachine(m)}`);
const started = performance.now();
const rows: Row[] = [];
for (const entry of BENCHES.filter((b) => !only || only.includes(b.name))) {
  const { bench } = await entry.load();
  log(`== ${bench.name}: ${bench.description}`);
  rows.push(...(await bench.run({ engineSizes, log })));
}
const elapsed = (performance.now() - started) / 1000;

console.log(`machine: ${describeMachine(m)}`);
process.stdout.write(renderText(rows));
const write = values.write || (!only && !values["no-write"]);
if (write) {
  const file = join(fileURLToPath(import.meta.url), "../../BENCHMARKS.md");
  const command = ["npm run bench", ...process.argv.slice(2)].join(" ");
  await writeFile(file, renderMarkdown(rows, m, { command, date: new Date().toISOString().slice(0, 10), seconds: elapsed }));
  log(`wrote ${file}`);
}
// Embedded PostgreSQL (engine benches) installs exit hooks; leave explicitly.
process.exit(0);
