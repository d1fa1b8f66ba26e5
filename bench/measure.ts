// Small timing helpers shared by the benches. Figures are medians or minimums of several runs
// taken side by side, because other work on the machine only ever adds time.
import { performance } from "node:perf_hooks";

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Milliseconds of one call of `fn`, timed `runs` times. */
export function timeRuns(fn: () => unknown, runs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    out.push(performance.now() - start);
  }
  return out;
}

/** CPU milliseconds (user + system) this process has used: unlike wall time, not inflated by other processes. */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * CPU milliseconds per call of a fast `fn`: calls are batched until a batch lasts `batchMs`,
 * and the fastest of `batches` batches is kept (the least disturbed by other processes).
 */
export function perCall(fn: () => unknown, { batchMs = 25, batches = 3 } = {}): number {
  fn(); // warm-up: compiled code, not the interpreter
  let calls = 1;
  for (;;) {
    const start = cpuMs();
    for (let i = 0; i < calls; i++) fn();
    if (cpuMs() - start >= batchMs || calls >= 1 << 20) break;
    calls *= 2;
  }
  let best = Infinity;
  for (let b = 0; b < batches; b++) {
    const start = cpuMs();
    for (let i = 0; i < calls; i++) fn();
    best = Math.min(best, (cpuMs() - start) / calls);
  }
  return best;
}

export const seconds = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
export const factor = (x: number) => `×${x >= 10 ? x.toFixed(1) : x.toFixed(2)}`;
export const count = (n: number) => n.toLocaleString("en-US");
