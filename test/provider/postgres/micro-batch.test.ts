// The micro-batcher under the diff's crossing check (provider/postgres/micro-batch.ts): pure, no
// database. What the batched SQL finds is test/e2e/crossings-batch.test.ts.
import { describe, expect, it } from "vitest";
import { microBatcher, type Settled } from "../../../provider/postgres/micro-batch.ts";

/** A batch function that records its batches and answers each item doubled, after `gate`. */
function recorder(gate: () => Promise<void> = async () => {}) {
  const batches: number[][] = [];
  const run = async (items: readonly number[]): Promise<Settled<number>[]> => {
    batches.push([...items]);
    await gate();
    return items.map((n) => (n < 0 ? { ok: false, error: new Error(`item ${n} failed`) } : { ok: true, value: n * 2 }));
  };
  return { batches, run };
}

describe("microBatcher", () => {
  it("hands the calls of one turn to one batch, each caller its own result", async () => {
    const r = recorder();
    const call = microBatcher(r.run, { cap: 10, concurrency: 1 });
    expect(await Promise.all([1, 2, 3].map(call))).toEqual([2, 4, 6]);
    expect(r.batches).toEqual([[1, 2, 3]]);
  });

  it("cuts batches at the cap", async () => {
    const r = recorder();
    const call = microBatcher(r.run, { cap: 2, concurrency: 1 });
    expect(await Promise.all([1, 2, 3, 4, 5].map(call))).toEqual([2, 4, 6, 8, 10]);
    expect(r.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("collects the calls that arrive while a batch is in flight into the next one", async () => {
    let open!: () => void;
    const first = new Promise<void>((go) => { open = go; });
    let gates = 0;
    const r = recorder(() => (gates++ === 0 ? first : Promise.resolve()));
    const call = microBatcher(r.run, { cap: 10, concurrency: 1 });
    const early = call(1);
    await new Promise((go) => setImmediate(go));
    const late = [2, 3, 4].map(call);
    await new Promise((go) => setTimeout(go, 10));
    expect(r.batches).toEqual([[1]]);
    open();
    expect(await Promise.all([early, ...late])).toEqual([2, 4, 6, 8]);
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
  });

  it("runs up to `concurrency` batches at once", async () => {
    let inFlight = 0, most = 0;
    const run = async (items: readonly number[]): Promise<Settled<number>[]> => {
      most = Math.max(most, ++inFlight);
      await new Promise((go) => setTimeout(go, 5));
      inFlight--;
      return items.map((n) => ({ ok: true, value: n }));
    };
    const call = microBatcher(run, { cap: 1, concurrency: 2 });
    expect(await Promise.all([1, 2, 3, 4, 5].map(call))).toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it("fails only the item that failed; the others of its batch resolve", async () => {
    const r = recorder();
    const call = microBatcher(r.run, { cap: 10, concurrency: 1 });
    const settled = await Promise.allSettled([1, -1, 3].map(call));
    expect(settled).toEqual([{ status: "fulfilled", value: 2 }, { status: "rejected", reason: new Error("item -1 failed") }, { status: "fulfilled", value: 6 }]);
  });

  it("fails a batch whose run throws, and goes on with the next", async () => {
    let calls = 0;
    const run = async (items: readonly number[]): Promise<Settled<number>[]> => {
      if (calls++ === 0) throw new Error("connection lost");
      return items.map((n) => ({ ok: true, value: n }));
    };
    const call = microBatcher(run, { cap: 2, concurrency: 1 });
    const settled = await Promise.allSettled([1, 2, 3].map(call));
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect((settled[0] as PromiseRejectedResult).reason.message).toBe("connection lost");
  });

  it("refuses a batch that answers for the wrong number of items", async () => {
    const call = microBatcher(async () => [{ ok: true, value: 1 }], { cap: 10, concurrency: 1 });
    await expect(Promise.all([call(1), call(2)])).rejects.toThrow("a batch of 2 returned 1 results");
  });

  it("refuses a cap or concurrency below 1", () => {
    expect(() => microBatcher(async () => [], { cap: 0, concurrency: 1 })).toThrow(/cap 0, concurrency 1/);
    expect(() => microBatcher(async () => [], { cap: 1, concurrency: 0.5 })).toThrow(/concurrency 0.5/);
  });
});
