/**
 * Group commit: calls made while one is in flight wait and go together in the next one (one
 * round trip, one transaction, one WAL flush for many); nothing waits when nothing is in
 * flight. A call still running after `stallMs` stops counting as in flight, so that one call
 * stuck on a connection that died (seen after a Postgres restart: 10-20 s) does not hold up
 * every other item; it still answers its own items when it ends. A call that fails as a whole
 * (one bad item) is retried item by item, so that each item gets its own answer.
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
  /** Time after which a call no longer blocks the next one (default 1 s). */
  stallMs?: number
}): Batcher<I, R> {
  interface Waiting {
    item: I
    resolve(r: R): void
    reject(e: unknown): void
  }
  let waiting: Waiting[] = []
  let inFlight = 0
  const stallMs = opts.stallMs ?? 1_000
  const answer = (w: Waiting, output: O) => {
    try {
      w.resolve(opts.settle(w.item, output))
    } catch (e) {
      w.reject(e)
    }
  }
  const fail = (w: Waiting, e: unknown) => w.reject(opts.error ? opts.error(w.item, e) : e)
  const flush = async (): Promise<void> => {
    if (waiting.length === 0 || inFlight > 0) return
    const batch = waiting.splice(0, opts.max ?? 200)
    inFlight++
    let counted = true
    const release = () => {
      if (!counted) return
      counted = false
      inFlight--
    }
    // Concurrent batches are safe: callers lock rows in one order (no deadlock).
    const stalled = setTimeout(() => {
      release()
      void flush()
    }, stallMs)
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
      clearTimeout(stalled)
      release()
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
