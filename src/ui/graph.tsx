/** @jsxImportSource hono/jsx */
/**
 * A run's workflow graph as SVG: laid out by dagre (left to right), each node a box coloured and
 * labelled by its state; `data-node` lets the page script recolour it live.
 * @module
 */
import dagre from '@dagrejs/dagre'

export interface GraphNode {
  id: string
  type: string
  status: string
}

export interface GraphEdge {
  from: string
  to: string
  on?: string
  when?: string
  max_iterations?: number
}

const WIDTH = 168
const HEIGHT = 52

export function Graph(props: { nodes: GraphNode[]; edges: GraphEdge[] }) {
  const g = new dagre.graphlib.Graph({ multigraph: true })
  g.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 56, marginx: 8, marginy: 8 })
  g.setDefaultEdgeLabel(() => ({}))
  const known = new Set(props.nodes.map((n) => n.id))
  for (const n of props.nodes) g.setNode(n.id, { width: WIDTH, height: HEIGHT })
  const edges = props.edges.filter((e) => known.has(e.from) && known.has(e.to))
  edges.forEach((e, i) => {
    g.setEdge(e.from, e.to, {}, String(i))
  })
  dagre.layout(g)
  const { width = WIDTH, height = HEIGHT } = g.graph()
  return (
    <svg
      class="graph"
      viewBox={`0 0 ${Math.ceil(width)} ${Math.ceil(height)}`}
      width={Math.ceil(width)}
      role="img"
      aria-label={`workflow graph: ${props.nodes.length} nodes, ${edges.length} edges`}
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
        </marker>
      </defs>
      {edges.map((e, i) => {
        const points = g.edge({ v: e.from, w: e.to, name: String(i) })?.points ?? []
        const d = points.map((p, j) => `${j ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')
        const label = e.on ?? (e.max_iterations ? 'loop' : e.when ? 'when' : '')
        const mid = points[Math.floor(points.length / 2)]
        return (
          <g class={`edge${e.max_iterations ? ' loop' : ''}`}>
            <path d={d} marker-end="url(#arrow)" />
            {label && mid ? (
              <text x={mid.x} y={mid.y - 4} class="edge-label">
                {label}
              </text>
            ) : null}
          </g>
        )
      })}
      {props.nodes.map((n) => {
        const box = g.node(n.id)
        const x = box.x - WIDTH / 2
        const y = box.y - HEIGHT / 2
        return (
          <a href={`#node-${encodeURIComponent(n.id)}`}>
            <g class={`node status-${n.status}`} data-node={n.id} transform={`translate(${x.toFixed(1)},${y.toFixed(1)})`}>
              <title>{`${n.id} (${n.type}): ${n.status}`}</title>
              <rect width={WIDTH} height={HEIGHT} rx="8" />
              <text x="10" y="20" class="node-id">
                {clip(n.id, 20)}
              </text>
              <text x="10" y="40" class="node-status">
                {`${n.type} · `}
                <tspan data-status>{n.status}</tspan>
              </text>
            </g>
          </a>
        )
      })}
    </svg>
  )
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}
