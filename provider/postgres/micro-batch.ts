// A micro-batcher: calls that arrive within one turn of the event loop, or while an earlier batch
// is still running, are handed to one `run` together (up to `cap` at a time), and each caller gets
// its own result or its own error. Pure: no SQL, no timers beyond setImmediate.

/** One item's outcome, as a batch hands it back. */
export type Settled<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

export interface BatchOptions {
  /** Items per batch at most. */
  readonly cap: number;
  /** Batches running at once at most; later calls wait and join the next batch. */
  readonly concurrency: number;
}

/**
 * `run` gets a batch and returns one Settled per item, in order. A `run` that throws (or returns
 * the wrong count) fails every item of its batch with that error; items of other batches go on.
 */
export function microBatcher<T, R>(run: (items: readonly T[]) => Promise<readonly Settled<R>[]>, options: BatchOptions): (item: T) => Promise<R> {
  if (!Number.isInteger(options.cap) || options.cap < 1 || !Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new Error(`a micro-batcher needs a whole cap and concurrency of at least 1; got cap ${options.cap}, concurrency ${options.concurrency}`);
  }
  interface Waiting { readonly item: T; resolve(value: R): void; reject(error: unknown): void }
  const queue: Waiting[] = [];
  let running = 0;
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    while (running < options.concurrency && queue.length > 0) {
      const batch = queue.splice(0, options.cap);
      running++;
      void settle(batch).finally(() => {
        running--;
        // What arrived meanwhile is the next batch: started now, not after another tick.
        if (queue.length > 0) flush();
      });
    }
  };

  async function settle(batch: Waiting[]): Promise<void> {
    let results: readonly Settled<R>[];
    try {
      results = await run(batch.map((w) => w.item));
      if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} returned ${results.length} results`);
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => {
      const r = results[i]!;
      if (r.ok) w.resolve(r.value);
      else w.reject(r.error);
    });
  }

  return (item: T) => new Promise<R>((resolve, reject) => {
    queue.push({ item, resolve, reject });
    // The first call of a turn waits for the rest of the turn (setImmediate runs after the I/O
    // callbacks already due, so the engine's other requests of that moment join it).
    if (!scheduled && running < options.concurrency) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}
