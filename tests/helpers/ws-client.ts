/** A test client of the fanout's WebSocket protocol (SPEC §5): every message kept, in order. */
export interface WsClient {
  messages: any[]
  events(run?: string): any[]
  send(msg: unknown): void
  /** A text frame as given. */
  sendRaw(text: string): void
  /** Resolves with the first message (after those already seen) matching `pred`. */
  next(pred: (m: any) => boolean, timeoutMs?: number): Promise<any>
  /** Resolves once any message received so far (or later) matches `pred`; consumes nothing. */
  has(pred: (m: any) => boolean, timeoutMs?: number): Promise<void>
  closed: Promise<{ code: number; reason: string }>
  close(): void
}

export async function wsConnect(url: string, token?: string): Promise<WsClient> {
  const ws = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {})
  const messages: any[] = []
  const waiters = new Set<() => void>()
  let resolveClosed!: (v: { code: number; reason: string }) => void
  const closed = new Promise<{ code: number; reason: string }>((r) => (resolveClosed = r))
  ws.onmessage = (e) => {
    messages.push(JSON.parse(String(e.data)))
    for (const w of waiters) w()
  }
  ws.onclose = (e) => {
    resolveClosed({ code: e.code, reason: e.reason })
    for (const w of waiters) w()
  }
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve()
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`))
  })
  let seen = 0
  return {
    messages,
    events: (run) =>
      messages
        .filter((m) => m.type === 'event' && (!run || m.event.run_id === run))
        .map((m) => m.event),
    send: (msg) => ws.send(JSON.stringify(msg)),
    sendRaw: (text) => ws.send(text),
    async next(pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        for (; seen < messages.length; seen++) if (pred(messages[seen])) return messages[seen++]
        if (ws.readyState === WebSocket.CLOSED) throw new Error('closed while waiting')
        if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms`)
        await new Promise<void>((r) => {
          const w = () => {
            waiters.delete(w)
            r()
          }
          waiters.add(w)
          setTimeout(w, 50)
        })
      }
    },
    async has(pred, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (!messages.some(pred)) {
        if (ws.readyState === WebSocket.CLOSED) throw new Error('closed while waiting')
        if (Date.now() > deadline) throw new Error(`no matching message within ${timeoutMs} ms`)
        await Bun.sleep(20)
      }
    },
    closed,
    close: () => ws.close(),
  }
}

/** The seqs a client received for a run, in order. */
export const seqsOf = (c: WsClient, run: string) => c.events(run).map((e) => e.seq as number)
