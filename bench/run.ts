// npm run bench: every bench in one run, one table with the machine it ran on, written to
// BENCHMARKS.md. Not part of `npm test`.
//
//   npm run bench                          every bench, then BENCHMARKS.md is rewritten
//   npm run bench -- --only validate,cli   some benches; BENCHMARKS.md is left alone (--write to force)
//   npm run bench -- --engine-sizes 10,100,1000   workspace counts for the engine benches
//   npm run bench -- --only preview --engine-sizes 1000 --section "Engine at 1,000 workspaces"
//                                          a run kept as its own section of BENCHMARKS.md
//
// Adding a bench: a module exporting `bench: BenchModule` (bench/table.ts) whose run() returns
// rows, listed in BENCHES below. Modules are imported only when they run.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { describeMachine, machine, renderMarkdown, renderText, withSection, type BenchModule, type Row } from "./table.ts";

const BENCHES: readonly { name: string; load: () => Promise<{ bench: BenchModule }> }[] = [
  { name: "validate", load: () => import("./validate.bench.ts") },
  { name: "plan", load: () => import("./plan.bench.ts") },
  { name: "rules", load: () => import("./rules.bench.ts") },
  { name: "cli", load: () => import("./cli.bench.ts") },
  { name: "policy-pack", load: () => import("./policy-pack.bench.ts") },
  { name: "audit", load: () => import("./audit.bench.ts") },
  { name: "preview", load: () => import("./preview.bench.ts") },
  { name: "stacks", load: () => import("./stacks.bench.ts") },
  { name: "roles", load: () => import("./roles.bench.ts") },
];

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    "engine-sizes": { type: "string", default: "10,100" },
    write: { type: "boolean", default: false },
    "no-write": { type: "boolean", default: false },
    section: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(`usage: npm run bench -- [--only ${BENCHES.map((b) => b.name).join(",")}] [--engine-sizes 10,100,1000] [--write|--no-write] [--section "title"]`);
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
const write = values.write || (!only && !values["no-write"]) || values.section !== undefined;
if (write) {
  const file = join(fileURLToPath(import.meta.url), "../../BENCHMARKS.md");
  const command = ["npm run bench", ...process.argv.slice(2)].join(" ");
  const context = { command, date: new Date().toISOString().slice(0, 10), seconds: elapsed };
  const existing = await readFile(file, "utf8").catch(() => "");
  // The main table is rewritten; the sections of other runs (opt-in sizes) are kept below it.
  const sections = existing.indexOf("\n## ") < 0 ? "" : existing.slice(existing.indexOf("\n## "));
  await writeFile(file, values.section === undefined ? `${renderMarkdown(rows, m, context).trimEnd()}\n${sections}` : withSection(existing, values.section, rows, m, context));
  log(`wrote ${file}${values.section === undefined ? "" : ` (section "${values.section}")`}`);
}
// Embedded PostgreSQL (engine benches) installs exit hooks; leave explicitly.
process.exit(0);
