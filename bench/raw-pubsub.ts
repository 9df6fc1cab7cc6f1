/**
 * The fanout bench's baseline: raw Bun `server.publish` with nothing of aob — clients connect to
 * `/ws?topic=T`; `POST /start?rate=N&topics=R&seconds=S` publishes N messages/s spread over R
 * topics, each carrying its send time. Run by bench/fanout.ts as its own process.
 */
const port = Number(process.env.PORT ?? 0)
const server = Bun.serve<{ topic: string }>({
  hostname: '127.0.0.1',
  port,
  fetch(req, s) {
    const url = new URL(req.url)
    if (url.pathname === '/ws') {
      const topic = url.searchParams.get('topic') ?? 't0'
      return s.upgrade(req, { data: { topic } }) ? undefined : new Response('no', { status: 400 })
    }
    if (url.pathname === '/start') {
      const rate = Number(url.searchParams.get('rate'))
      const topics = Number(url.searchParams.get('topics'))
      const seconds = Number(url.searchParams.get('seconds'))
      const tick = 10
      const perTick = rate / (1000 / tick)
      let carry = 0
      let n = 0
      const end = Date.now() + seconds * 1000
      const timer = setInterval(() => {
        if (Date.now() > end) return clearInterval(timer)
        carry += perTick
        for (; carry >= 1; carry--) {
          const t = performance.timeOrigin + performance.now()
          server.publish(
            `t${n++ % topics}`,
            JSON.stringify({ type: 'event', event: { data: { t } } })
          )
        }
      }, tick)
      return new Response('started')
    }
    return new Response('no', { status: 404 })
  },
  websocket: {
    open(ws) {
      ws.subscribe(ws.data.topic)
    },
    message() {},
  },
})
console.log(`raw-pubsub ${server.port}`)
