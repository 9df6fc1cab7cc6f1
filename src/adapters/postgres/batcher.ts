/**
 * Group commit: calls made while others are in flight wait and go together in the next one
 * (one round trip, one transaction, one WAL flush for many); nothing waits when fewer than
 * `maxInFlight` calls are in flight. More than one may be in flight so that one slow call (a
 * connection that died mid-query and is only noticed late) does not hold up every other
 * item. A call that fails as a whole (one bad item) is retried item by item, so that each item
 * gets its own answer.
 * @module
 */
export interface Batcher<I, R> {
  run(item: I): Promise<R>
}

export function createBatcher<I, O, R>(opts: {
  /** One call for many items; resolves with one output per item, in order. */
  call(items: I[]): Promise<O[]>
  /** An item's answer from its output (may throw the item's own error). */
  settle(item: I, output: O): R
  /** The item's error when its call failed. */
  error?(item: I, e: unknown): unknown
  max?: number
  /** Calls in flight at once (default 1); callers keep concurrent batches deadlock-free. */
  maxInFlight?: number
}): Batcher<I, R> {
  interface Waiting {
    item: I
    resolve(r: R): void
    reject(e: unknown): void
  }
  let waiting: Waiting[] = []
  let inFlight = 0
  const maxInFlight = opts.maxInFlight ?? 1
  const answer = (w: Waiting, output: O) => {
    try {
      w.resolve(opts.settle(w.item, output))
    } catch (e) {
      w.reject(e)
    }
  }
  const fail = (w: Waiting, e: unknown) => w.reject(opts.error ? opts.error(w.item, e) : e)
  const flush = async (): Promise<void> => {
    if (waiting.length === 0 || inFlight >= maxInFlight) return
    const batch = waiting.splice(0, opts.max ?? 200)
    inFlight++
    try {
      const outputs = await opts.call(batch.map((w) => w.item))
      batch.forEach((w, i) => answer(w, outputs[i]))
    } catch (e) {
      if (batch.length === 1) fail(batch[0], e)
      else
        for (const w of batch)
          opts.call([w.item]).then(
            ([output]) => answer(w, output),
            (err) => fail(w, err)
          )
    } finally {
      inFlight--
      void flush()
    }
  }
  return {
    run(item) {
      return new Promise<R>((resolve, reject) => {
        waiting.push({ item, resolve, reject })
        void flush()
      })
    },
  }
}
