// The web UI's page script: live updates over the fanout WebSocket (SPEC §5), authenticated by
// the session cookie. Every page reads fine without it; this only keeps it current. Text goes
// in with textContent only.
;(() => {
  const main = document.getElementById('main')
  const mode = main?.dataset.live
  if (!mode || !('WebSocket' in window)) return
  const NODE_STATUS = {
    node_started: 'running',
    node_completed: 'succeeded',
    node_failed: 'failed',
    node_skipped: 'skipped',
    approval_required: 'waiting',
  }
  const RUN_STATUS = {
    run_started: 'running',
    run_completed: 'succeeded',
    run_failed: 'failed',
    run_cancelled: 'cancelled',
  }
  const setStatus = (badge, status) => {
    if (!badge) return
    badge.textContent = status
    badge.className = `badge status-${status}`
  }
  let after = Number(main.dataset.after || 0)
  let ended = false
  let retry = 0

  const onRunsEvent = (ev) => {
    const status = RUN_STATUS[ev.type]
    if (!status) return
    const table = document.querySelector('[data-runs]')
    if (!table) return
    let row = table.querySelector(`tr[data-run="${CSS.escape(ev.run_id)}"]`)
    if (!row && ev.type === 'run_started') {
      // A new run: shown at the top when no filter would hide it.
      if (table.dataset.filterWorkflow || (table.dataset.filterStatus && table.dataset.filterStatus !== 'running')) return
      row = document.createElement('tr')
      row.dataset.run = ev.run_id
      const cells = [document.createElement('td'), document.createElement('td')]
      const link = document.createElement('a')
      link.href = `/runs/${encodeURIComponent(ev.run_id)}`
      link.textContent = ev.run_id
      cells[0].append(link)
      const badge = document.createElement('span')
      badge.dataset.status = ''
      cells[1].append(badge)
      const workflow = document.createElement('td')
      workflow.className = 'mono'
      workflow.textContent = ev.data?.workflow_id ?? ''
      const created = document.createElement('td')
      created.textContent = 'just now'
      const by = document.createElement('td')
      by.textContent = ev.data?.created_by ?? ''
      row.append(...cells, workflow, created, by)
      table.tBodies[0].prepend(row)
      document.querySelector('.empty')?.remove()
    }
    if (row) setStatus(row.querySelector('[data-status]'), status)
  }

  const onRunEvent = (ev) => {
    if (ev.seq <= after) return
    after = ev.seq
    const nodeStatus = NODE_STATUS[ev.type]
    if (nodeStatus && ev.node_id !== undefined) {
      const sel = CSS.escape(ev.node_id)
      const node = document.querySelector(`[data-node="${sel}"]`)
      if (node) {
        node.setAttribute('class', `node status-${nodeStatus}`)
        const label = node.querySelector('[data-status]')
        if (label) label.textContent = nodeStatus
        const title = node.querySelector('title')
        if (title) title.textContent = title.textContent.replace(/: \S+$/, `: ${nodeStatus}`)
      }
      setStatus(document.querySelector(`[data-node-detail="${sel}"] [data-status]`), nodeStatus)
    }
    const runStatus = RUN_STATUS[ev.type]
    if (runStatus) setStatus(document.querySelector('[data-run-status] [data-status]'), runStatus)
    const timeline = document.querySelector('[data-timeline]')
    if (timeline && !timeline.querySelector(`[data-seq="${ev.seq}"]`)) {
      const li = document.createElement('li')
      li.dataset.seq = String(ev.seq)
      const seq = document.createElement('span')
      seq.className = 'seq'
      seq.textContent = `#${ev.seq}`
      const type = document.createElement('span')
      type.className = `ev ev-${ev.type}`
      type.textContent = ev.type
      li.append(seq, ' ', type)
      if (ev.node_id !== undefined) {
        const node = document.createElement('span')
        node.className = 'mono'
        node.textContent = ` ${ev.node_id}`
        li.append(node)
      }
      timeline.append(li)
    }
    if (runStatus && runStatus !== 'running') {
      ended = true
      // Outputs, errors and usage are on the page once it is read again.
      setTimeout(() => location.reload(), 400)
    }
  }

  const connect = () => {
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`)
    ws.addEventListener('open', () => {
      retry = 0
      document.body.dataset.live = 'connected'
      ws.send(
        JSON.stringify(
          mode === 'runs'
            ? { type: 'subscribe', scope: 'runs' }
            : { type: 'subscribe', run: main.dataset.run, after }
        )
      )
    })
    ws.addEventListener('message', (m) => {
      const msg = JSON.parse(m.data)
      if (msg.type === 'event') (mode === 'runs' ? onRunsEvent : onRunEvent)(msg.event)
      else if (msg.type === 'gap') location.reload()
    })
    ws.addEventListener('close', () => {
      document.body.dataset.live = 'disconnected'
      if (!ended) setTimeout(connect, Math.min(10_000, 500 * 2 ** retry++))
    })
  }
  connect()
})()
