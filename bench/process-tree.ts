// The engine's memory and CPU live in other processes (the pulumi CLI, the Node language host
// running the program, the dynamic provider, the PostgreSQL backends), which
// process.resourceUsage() does not see. Sampling /proc a few times a second is cheap and needs
// no dependency; where there is no /proc it reports nothing. A process that ends between two
// samples loses at most one interval of CPU.
import { readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";

const PAGE_KB = 4;
const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node supports

export interface TreeSample {
  /** Highest sum of RSS at one instant over the sampled processes other than PostgreSQL, in MB. */
  readonly peakMb: number;
  /** The same for PostgreSQL's processes (they share memory, so this overcounts). */
  readonly postgresPeakMb: number;
  /** Per process label: CPU seconds spent during the sampling, and the highest RSS of one process. */
  readonly byLabel: ReadonlyMap<string, { cpuSeconds: number; peakMb: number }>;
}

interface Stat { readonly ppid: number; readonly ticks: number; readonly rssKb: number }

function readStat(pid: string): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state ppid ... utime(14) stime(15) ... rss(24), counted from 1.
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), rssKb: Number(f[21]) * PAGE_KB };
  } catch {
    return undefined; // the process ended between readdir and read
  }
}

const TRANSIENT = new Set(["sh", "bash", "node", "?"]);

/** A short name saying which part of the toolchain a process is. */
function labelOf(pid: number): string {
  let argv: string[];
  try { argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean); } catch { return "?"; }
  const exe = basename(argv[0] ?? "?");
  if (exe.startsWith("postgres")) return "postgres";
  if (exe !== "node" && !exe.startsWith("node")) return exe;
  // Node processes: the program (cmd/run), the dynamic provider (cmd/dynamic-provider), tsx, ...
  const script = argv.find((a) => a.includes("/cmd/")) ?? argv.find((a) => a.endsWith(".ts") || a.endsWith(".js") || a.endsWith(".mjs"));
  if (!script) return "node";
  const cmd = /\/cmd\/([\w-]+)/.exec(script)?.[1];
  return cmd ? `node ${cmd}` : `node ${basename(script)}`;
}

/** Samples the descendants of `roots` (and the roots themselves, except this process) until stop(). */
export function sampleProcesses(roots: readonly number[], intervalMs = 250): { stop(): TreeSample } {
  let peakKb = 0;
  let postgresPeakKb = 0;
  let initial = true;
  const seen = new Map<number, { label: string; first: number; last: number; peakKb: number }>();
  const tick = () => {
    let entries: string[];
    try { entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e)); } catch { return; }
    const stats = new Map<number, Stat>();
    for (const e of entries) { const s = readStat(e); if (s) stats.set(Number(e), s); }
    const children = new Map<number, number[]>();
    for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
    const tree = new Set(roots.filter((r) => r !== process.pid && stats.has(r)));
    const queue = [...roots];
    while (queue.length > 0) for (const c of children.get(queue.pop()!) ?? []) { tree.add(c); queue.push(c); }
    let totalKb = 0;
    let postgresKb = 0;
    for (const pid of tree) {
      const s = stats.get(pid)!;
      let known = seen.get(pid);
      if (known) {
        // A wrapper script or a starting node is labelled again once it has exec'd into what it runs.
        if (TRANSIENT.has(known.label)) known.label = labelOf(pid);
        known.last = s.ticks;
        known.peakKb = Math.max(known.peakKb, s.rssKb);
      } else {
        // A process already running when sampling starts counts only its CPU from here on.
        known = { label: labelOf(pid), first: initial ? s.ticks : 0, last: s.ticks, peakKb: s.rssKb };
        seen.set(pid, known);
      }
      if (known.label === "postgres") postgresKb += s.rssKb; else totalKb += s.rssKb;
    }
    peakKb = Math.max(peakKb, totalKb);
    postgresPeakKb = Math.max(postgresPeakKb, postgresKb);
    initial = false;
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      tick();
      const byLabel = new Map<string, { cpuSeconds: number; peakMb: number }>();
      for (const p of seen.values()) {
        const entry = byLabel.get(p.label) ?? { cpuSeconds: 0, peakMb: 0 };
        entry.cpuSeconds += (p.last - p.first) / TICKS_PER_SECOND;
        entry.peakMb = Math.max(entry.peakMb, p.peakKb / 1024);
        byLabel.set(p.label, entry);
      }
      return { peakMb: peakKb / 1024, postgresPeakMb: postgresPeakKb / 1024, byLabel };
    },
  };
}
