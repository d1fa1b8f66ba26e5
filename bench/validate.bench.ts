// npm run bench — validate at scale, with the parse choice measured side by side in one run.
// Issue #2's target: 1,000 workspaces and 50,000 memberships validate well under a second.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { checkDeclaration } from "../policies/declaration.ts";
import { generateDeclaration } from "./generate.ts";

const RUNS = 5;

function time<T>(fn: () => T): { ms: number; result: T } {
  const start = performance.now();
  const result = fn();
  return { ms: performance.now() - start, result };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const text = generateDeclaration({ workspaces: 1000, membersPerWorkspace: 50 });
// The same file with one mistake near the end: the error path (positions resolved) costs more.
const at = text.lastIndexOf("role: editor}");
const broken = `${text.slice(0, at)}role: owner}${text.slice(at + "role: editor}".length)}`;

const valid: number[] = [];
const invalid: number[] = [];
const yamlLib: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const ok = time(() => checkDeclaration(text, "bench.yaml"));
  if (ok.result.violations.length !== 0) throw new Error(`bench: generated declaration is invalid: ${ok.result.violations[0]!.message}`);
  valid.push(ok.ms);
  const bad = time(() => checkDeclaration(broken, "bench.yaml"));
  if (bad.result.violations.length !== 1) throw new Error("bench: expected exactly one violation");
  invalid.push(bad.ms);
  yamlLib.push(time(() => parseDocument(text, { uniqueKeys: true })).ms);
}

// The whole command as a user runs it: process start, TypeScript loader, read, validate, print.
const file = join(mkdtempSync(join(tmpdir(), "tenancy-bench-")), "tenancy.yaml");
writeFileSync(file, text);
const cli: number[] = [];
for (let i = 0; i < RUNS; i++) {
  cli.push(time(() => execFileSync(process.execPath, [new URL("../cli/tenancy.mjs", import.meta.url).pathname, "validate", file])).ms);
}

const mb = (text.length / 1e6).toFixed(2);
const row = (label: string, ms: number) => console.log(`${label.padEnd(58)} ${ms.toFixed(0).padStart(6)} ms`);
console.log(`declaration: 1,000 workspaces, 50,000 memberships, ${mb} MB; median of ${RUNS} runs`);
row("tenancy validate, valid file (parse + schema + rules)", median(valid));
row("tenancy validate, one violation (+ locating it)", median(invalid));
row("`tenancy validate` as a command (node start-up included)", median(cli));
row("`yaml` parseDocument alone (the parser we did not pick)", median(yamlLib));
console.log(`ratio: full validate is ${(median(yamlLib) / median(valid)).toFixed(1)}x faster than parsing alone with \`yaml\``);
console.log(`target: valid file under 1000 ms -> ${median(valid) < 1000 ? "met" : "MISSED"}`);
