// For a run started before `--section` existed: turns the table a bench run printed
// (renderText's fixed-width columns) back into its rows and keeps them as a section of
// BENCHMARKS.md, with that run's own command, machine line and duration.
//   npx tsx bench/section-from-log.ts <printed output> <title> <command> <seconds>
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { withSection, type Machine, type Row } from "./table.ts";

export function rowsFromText(text: string): { machine: string; rows: Row[] } {
  const lines = text.split("\n");
  const machine = lines.find((l) => l.startsWith("machine: "))!.slice("machine: ".length);
  const at = lines.findIndex((l) => l.startsWith("area "));
  const header = lines[at]!;
  const [measureAt, noteAt] = [header.indexOf("measure"), header.indexOf("note")];
  const figureEnd = header.indexOf("figure") + "figure".length;
  const rows = lines.slice(at + 2).filter((l) => l.trim()).map((l): Row => {
    // Measure is left-aligned, figure right-aligned against the figure header's end, at least
    // two spaces apart: the figure is the last run of single-spaced words before that end.
    const middle = l.slice(measureAt, figureEnd).trimEnd();
    const figure = middle.match(/\S+(?: \S+)*$/)![0];
    return { area: l.slice(0, measureAt).trim(), measure: middle.slice(0, middle.length - figure.length).trim(), figure, note: l.slice(noteAt).trim() };
  });
  return { machine, rows };
}

if (process.argv[1]?.endsWith("section-from-log.ts")) {
  const [log, title, command, seconds] = process.argv.slice(2) as [string, string, string, string];
  const { machine, rows } = rowsFromText(await readFile(log, "utf8"));
  const file = join(import.meta.dirname, "..", "BENCHMARKS.md");
  // The machine as that run described it (describeMachine's text, load average included).
  const found = /^(.*), (\d+) cores, (.*), Node\.js (\S+), (.*); load average ([\d.]+) at the start$/.exec(machine);
  if (!found) throw new Error(`cannot read the machine line: ${machine}`);
  const m: Machine = { cpu: found[1]!, cores: Number(found[2]), memory: found[3]!, node: found[4]!, platform: found[5]!, load: Number(found[6]) };
  await writeFile(file, withSection(await readFile(file, "utf8"), title, rows, m, { command, date: new Date().toISOString().slice(0, 10), seconds: Number(seconds) }));
  process.stderr.write(`wrote ${rows.length} rows as section "${title}"\n`);
}
