/** @jsxImportSource hono/jsx */
/**
 * The web UI's pages (SPEC §10) as hono/jsx components: plain HTML that reads without
 * JavaScript; `data-*` hooks let the page script (assets/live.js) update them live.
 * @module
 */
import type { Child } from 'hono/jsx'
import { age } from '../time.ts'
import { Graph, type GraphEdge, type GraphNode } from './graph.tsx'

export interface Viewer {
  name: string
  role: 'admin' | 'operator' | 'viewer'
  csrf: string
}

export const mayAct = (v: Viewer) => v.role !== 'viewer'

export const RUN_STATUSES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled']

export function Page(props: {
  title: string
  viewer?: Viewer
  notice?: string
  error?: string
  live?: Record<string, string>
  children?: Child
}) {
  const { viewer } = props
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · aob`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/ui/assets/style.css" />
        <script src="/ui/assets/live.js" defer />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/">
            aob
          </a>
          {viewer ? (
            <nav aria-label="main">
              <a href="/">Runs</a>
              <a href="/approvals">Approvals</a>
            </nav>
          ) : null}
          {viewer ? (
            <form method="post" action="/sign-out" class="who">
              <span>
                {viewer.name} <span class="role">({viewer.role})</span>
              </span>
              <input type="hidden" name="csrf" value={viewer.csrf} />
              <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main id="main" {...dataOf(props.live)}>
          {props.notice ? (
            <p class="notice" role="status">
              {props.notice}
            </p>
          ) : null}
          {props.error ? (
            <p class="error" role="alert">
              {props.error}
            </p>
          ) : null}
          {props.children}
        </main>
      </body>
    </html>
  )
}

function dataOf(live?: Record<string, string>) {
  const attrs: Record<string, string> = {}
  for (const [k, v] of Object.entries(live ?? {})) attrs[`data-${k}`] = v
  return attrs
}

export function SignIn(props: { csrf: string; next: string; error?: string }) {
  return (
    <Page title="Sign in" error={props.error}>
      <h1>Sign in</h1>
      <form method="post" action="/sign-in" class="card narrow">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required />
        <p class="hint">The token `aob dev` printed, or one of `AOB_TOKENS`.</p>
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <button type="submit">Sign in</button>
      </form>
    </Page>
  )
}

export function Status(props: { status: string; live?: boolean }) {
  return (
    <span class={`badge status-${props.status}`} data-status={props.live ? '' : undefined}>
      {props.status}
    </span>
  )
}

function Time(props: { iso: string | null }) {
  if (!props.iso) return <span>-</span>
  return (
    <time datetime={props.iso} title={props.iso}>
      {`${age(props.iso)} ago`.replace(/^in (.*) ago$/, 'in $1')}
    </time>
  )
}

export interface RunRow {
  run_id: string
  workflow_id: string
  status: string
  created_at: string
  created_by: string | null
  replay_of: string | null
}

export function RunsPage(props: {
  viewer: Viewer
  runs: RunRow[]
  next: string | null
  filters: { status?: string; workflow?: string }
  notice?: string
  error?: string
}) {
  const { filters } = props
  const query = (cursor: string) =>
    `/?${new URLSearchParams({ ...(filters as Record<string, string>), cursor })}`
  return (
    <Page title="Runs" viewer={props.viewer} notice={props.notice} error={props.error} live={{ live: 'runs' }}>
      <h1>Runs</h1>
      <form method="get" action="/" class="filters" aria-label="filter runs">
        <label>
          Status{' '}
          <select name="status">
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option value={s} selected={filters.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Workflow <input name="workflow" value={filters.workflow ?? ''} placeholder="id or tag" />
        </label>
        <button type="submit">Filter</button>
      </form>
      <table class="runs" data-runs data-filter-status={filters.status ?? ''} data-filter-workflow={filters.workflow ?? ''}>
        <thead>
          <tr>
            <th scope="col">Run</th>
            <th scope="col">Status</th>
            <th scope="col">Workflow</th>
            <th scope="col">Created</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {props.runs.map((r) => (
            <tr data-run={r.run_id}>
              <td>
                <a href={`/runs/${r.run_id}`}>{r.run_id}</a>
                {r.replay_of ? <span class="hint"> replay</span> : null}
              </td>
              <td>
                <Status status={r.status} live />
              </td>
              <td class="mono">{r.workflow_id}</td>
              <td>
                <Time iso={r.created_at} />
              </td>
              <td>{r.created_by ?? '-'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.runs.length === 0 ? <p class="empty">No runs yet.</p> : null}
      {props.next ? (
        <p>
          <a href={query(props.next)}>Older runs →</a>
        </p>
      ) : null}
    </Page>
  )
}

export interface RunDetail {
  run_id: string
  workflow_id: string
  status: string
  created_at: string
  finished_at: string | null
  created_by: string | null
  replay_of: string | null
  trace_id: string
  input: unknown
  output: unknown
  error: { code: string; message: string } | null
  last_seq: number
  usage?: Record<string, number>
  document: { name: string; nodes: { id: string; type: string; config?: unknown }[]; edges?: GraphEdge[] }
  nodes: Record<
    string,
    {
      type: string
      status: string
      attempts: number
      started_at: string | null
      finished_at: string | null
      output: unknown
      output_ref?: string
      error: { code: string; message: string } | null
      usage?: Record<string, number>
    }
  >
}

export interface EventRow {
  seq: number
  type: string
  node_id?: string
  ts: string
  data?: Record<string, unknown>
}

export interface PatchRow {
  patch_id: string
  status: string
  reason: string | null
  submitted_by: string | null
  operations: unknown[]
  created_at: string
  tainted: boolean
  diff: string
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])

export function RunPage(props: {
  viewer: Viewer
  run: RunDetail
  events: EventRow[]
  patches: PatchRow[]
  notice?: string
  error?: string
}) {
  const { run, viewer } = props
  const nodes: GraphNode[] = run.document.nodes.map((n) => ({
    id: n.id,
    type: n.type,
    status: run.nodes[n.id]?.status ?? 'pending',
  }))
  const ended = TERMINAL.has(run.status)
  return (
    <Page
      title={`Run ${run.run_id}`}
      viewer={viewer}
      notice={props.notice}
      error={props.error}
      live={{ live: 'run', run: run.run_id, after: String(run.last_seq) }}
    >
      <h1>
        Run <span class="mono">{run.run_id}</span> <span data-run-status><Status status={run.status} live /></span>
      </h1>
      <dl class="facts">
        <dt>Workflow</dt>
        <dd>
          {run.document.name} <span class="mono hint">{run.workflow_id}</span>
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={run.created_at} /> by {run.created_by ?? '-'}
        </dd>
        {run.replay_of ? (
          <>
            <dt>Replay of</dt>
            <dd>
              <a href={`/runs/${run.replay_of}`}>{run.replay_of}</a>
            </dd>
          </>
        ) : null}
        <dt>Trace</dt>
        <dd class="mono">{run.trace_id}</dd>
        {run.usage && Object.keys(run.usage).length ? (
          <>
            <dt>Usage</dt>
            <dd>{usageText(run.usage)}</dd>
          </>
        ) : null}
      </dl>
      {mayAct(viewer) ? (
        <div class="actions">
          {!ended ? (
            <form method="post" action={`/runs/${run.run_id}/cancel`}>
              <input type="hidden" name="csrf" value={viewer.csrf} />
              <button type="submit" class="danger">
                Cancel run
              </button>
            </form>
          ) : null}
          <form method="post" action={`/runs/${run.run_id}/replay`}>
            <input type="hidden" name="csrf" value={viewer.csrf} />
            <label>
              Replay from{' '}
              <select name="from">
                <option value="">failed and cancelled nodes</option>
                {nodes.map((n) => (
                  <option value={n.id}>{n.id}</option>
                ))}
              </select>
            </label>{' '}
            <button type="submit">Replay</button>
          </form>
        </div>
      ) : null}
      <section aria-labelledby="graph-h">
        <h2 id="graph-h">Graph</h2>
        <div class="graph-box">
          <Graph nodes={nodes} edges={run.document.edges ?? []} />
        </div>
        <p class="legend">
          {['pending', 'running', 'waiting', 'succeeded', 'failed', 'skipped', 'cancelled'].map((s) => (
            <Status status={s} />
          ))}
        </p>
      </section>
      {run.error ? (
        <p class="error" role="alert">
          {run.error.code}: {run.error.message}
        </p>
      ) : null}
      <section aria-labelledby="nodes-h">
        <h2 id="nodes-h">Nodes</h2>
        {run.document.nodes.map((n) => {
          const s = run.nodes[n.id]
          return (
            <details id={`node-${n.id}`} class="node-detail" data-node-detail={n.id}>
              <summary>
                <span class="mono">{n.id}</span> <span class="hint">{n.type}</span>{' '}
                <Status status={s?.status ?? 'pending'} live />
              </summary>
              <dl class="facts">
                <dt>Attempts</dt>
                <dd>{s?.attempts ?? 0}</dd>
                <dt>Started</dt>
                <dd>
                  <Time iso={s?.started_at ?? null} />
                </dd>
                <dt>Finished</dt>
                <dd>
                  <Time iso={s?.finished_at ?? null} />
                </dd>
                {s?.usage ? (
                  <>
                    <dt>Usage</dt>
                    <dd>{usageText(s.usage)}</dd>
                  </>
                ) : null}
              </dl>
              <h3>Input (config)</h3>
              <Json value={n.config ?? {}} />
              {s?.output !== null && s?.output !== undefined ? (
                <>
                  <h3>Output</h3>
                  <Json value={s.output} />
                </>
              ) : s?.output_ref ? (
                <p class="hint">Output kept aside ({s.output_ref}).</p>
              ) : null}
              {s?.error ? (
                <>
                  <h3>Error</h3>
                  <p class="error">
                    {s.error.code}: {s.error.message}
                  </p>
                </>
              ) : null}
            </details>
          )
        })}
      </section>
      <section aria-labelledby="io-h">
        <h2 id="io-h">Input and output</h2>
        <h3>Input</h3>
        <Json value={run.input} />
        <h3>Output</h3>
        <Json value={run.output} />
      </section>
      <section aria-labelledby="patches-h">
        <h2 id="patches-h">Patches</h2>
        {props.patches.length === 0 ? <p class="empty">No patches.</p> : null}
        {props.patches.map((p) => (
          <article class="card" id={`patch-${p.patch_id}`}>
            <h3>
              <span class="mono">{p.patch_id}</span> <Status status={p.status} />
              {p.tainted ? <span class="badge status-failed">tainted</span> : null}
            </h3>
            <p>
              by {p.submitted_by ?? '-'}, <Time iso={p.created_at} />
              {p.reason ? ` — ${p.reason}` : ''}
            </p>
            <Diff text={p.diff} />
            {p.status === 'pending' && mayAct(viewer) ? (
              <div class="actions">
                {(['approve', 'reject'] as const).map((decision) => (
                  <form method="post" action={`/patches/${p.patch_id}/${decision}`}>
                    <input type="hidden" name="csrf" value={viewer.csrf} />
                    <input type="hidden" name="run" value={run.run_id} />
                    <button type="submit" class={decision === 'reject' ? 'danger' : ''}>
                      {decision === 'approve' ? 'Approve patch' : 'Reject patch'}
                    </button>
                  </form>
                ))}
              </div>
            ) : null}
          </article>
        ))}
      </section>
      <section aria-labelledby="events-h">
        <h2 id="events-h">Events</h2>
        <ol class="timeline" data-timeline>
          {props.events.map((e) => (
            <EventItem event={e} />
          ))}
        </ol>
      </section>
    </Page>
  )
}

export function EventItem(props: { event: EventRow }) {
  const e = props.event
  return (
    <li data-seq={String(e.seq)}>
      <span class="seq">#{e.seq}</span> <span class={`ev ev-${e.type}`}>{e.type}</span>
      {e.node_id ? <span class="mono"> {e.node_id}</span> : null}{' '}
      <time datetime={e.ts} class="hint">
        {e.ts.slice(11, 23)}
      </time>
    </li>
  )
}

export interface ApprovalRow {
  id: string
  run_id: string
  node_id: string
  status: string
  prompt: string
  quorum: number
  votes: { by: string; decision: string; comment: string | null }[]
  created_at: string
  timeout_at: string | null
}

export function ApprovalsPage(props: {
  viewer: Viewer
  approvals: ApprovalRow[]
  status: string
  notice?: string
  error?: string
}) {
  const { viewer } = props
  return (
    <Page title="Approvals" viewer={viewer} notice={props.notice} error={props.error}>
      <h1>Approvals</h1>
      <form method="get" action="/approvals" class="filters" aria-label="filter approvals">
        <label>
          Status{' '}
          <select name="status">
            {['pending', 'approved', 'rejected', 'timed_out', 'cancelled', 'all'].map((s) => (
              <option value={s} selected={props.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      {!mayAct(viewer) ? <p class="hint">Read-only: viewers cannot decide approvals.</p> : null}
      {props.approvals.length === 0 ? <p class="empty">Nothing waiting for you.</p> : null}
      {props.approvals.map((a) => (
        <article class="card approval" id={`approval-${a.id}`} data-approval={a.id}>
          <h2>{a.prompt}</h2>
          <p>
            <Status status={a.status} /> run <a href={`/runs/${a.run_id}`}>{a.run_id}</a>, node{' '}
            <span class="mono">{a.node_id}</span> · votes {a.votes.length}/{a.quorum} · opened{' '}
            <Time iso={a.created_at} />
            {a.timeout_at ? (
              <>
                {' '}
                · times out <Time iso={a.timeout_at} />
              </>
            ) : null}
          </p>
          {a.votes.length ? (
            <ul>
              {a.votes.map((v) => (
                <li>
                  {v.by}: {v.decision}
                  {v.comment ? ` — ${v.comment}` : ''}
                </li>
              ))}
            </ul>
          ) : null}
          {a.status === 'pending' && mayAct(viewer) ? (
            <form method="post" action={`/approvals/${a.id}/decide`} class="decide">
              <input type="hidden" name="csrf" value={viewer.csrf} />
              <label for={`comment-${a.id}`}>Comment</label>
              <textarea id={`comment-${a.id}`} name="comment" rows={2} maxlength={2000} />
              <div class="actions">
                <button type="submit" name="decision" value="approve">
                  Approve
                </button>
                <button type="submit" name="decision" value="reject" class="danger">
                  Reject
                </button>
              </div>
            </form>
          ) : null}
        </article>
      ))}
    </Page>
  )
}

export function ErrorPage(props: { viewer?: Viewer; status: number; message: string }) {
  return (
    <Page title={`Error ${props.status}`} viewer={props.viewer}>
      <h1>{props.status === 404 ? 'Not found' : 'Something went wrong'}</h1>
      <p class="error" role="alert">
        {props.message}
      </p>
      <p>
        <a href="/">Back to the runs</a>
      </p>
    </Page>
  )
}

function Json(props: { value: unknown }) {
  const text = JSON.stringify(props.value, null, 2) ?? 'null'
  return <pre class="json">{text.length > 20_000 ? `${text.slice(0, 20_000)}\n…` : text}</pre>
}

function Diff(props: { text: string }) {
  const lines = props.text.split('\n').filter((l) => !l.startsWith('===') && !l.startsWith('Index:'))
  return (
    <pre class="diff" aria-label="document before and after">
      {lines.map((l) => (
        <span class={l.startsWith('+') && !l.startsWith('+++') ? 'add' : l.startsWith('-') && !l.startsWith('---') ? 'del' : l.startsWith('@@') ? 'hunk' : ''}>
          {`${l}\n`}
        </span>
      ))}
    </pre>
  )
}

function usageText(u: Record<string, number>): string {
  return Object.entries(u)
    .filter(([, n]) => typeof n === 'number')
    .map(([k, n]) => `${k.replaceAll('_', ' ')} ${n}`)
    .join(', ')
}
