// Samples every process on the machine (/proc) until stopped: the distinct command lines seen,
// and, when asked, the command lines of processes whose environment holds a given text. The
// secret tests run it through an apply to show no secret reaches an argument or an environment.
import { readdirSync, readFileSync } from "node:fs";

export interface Watched {
  readonly samples: number;
  /** Every distinct command line, arguments joined by spaces. */
  readonly lines: Set<string>;
  /** Command lines (first 160 characters) of processes whose environment held `environMark`. */
  readonly environHits: Set<string>;
}

export interface WatchOptions {
  /** Also read each process's environment and record those holding this text. */
  readonly environMark?: string;
  /** Pause between samples; 0 (the default) samples again at once. */
  readonly pauseMs?: number;
}

export function watchProcesses(options: WatchOptions = {}): { stop(): Promise<Watched> } {
  const lines = new Set<string>();
  const environHits = new Set<string>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const pid of readdirSync("/proc")) {
        if (!/^\d+$/.test(pid)) continue;
        try {
          const line = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
          if (line) lines.add(line);
          if (options.environMark !== undefined && readFileSync(`/proc/${pid}/environ`, "latin1").includes(options.environMark)) environHits.add(line.slice(0, 160));
        } catch { /* gone, or not ours to read */ }
      }
      samples++;
      await new Promise((r) => (options.pauseMs ? setTimeout(r, options.pauseMs) : setImmediate(r)));
    }
  })();
  return { async stop() { running = false; await loop; return { samples, lines, environHits }; } };
}
