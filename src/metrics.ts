/**
 * The Prometheus metrics of a process (SPEC §8), on prom-client: one registry per kernel, so
 * every process (and every kernel of a test) counts on its own. Labels are small closed sets,
 * never run ids or other user data.
 * @module
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300]

export type Metrics = ReturnType<typeof createMetrics>

export function createMetrics() {
  const registry = new Registry()
  const registers = [registry]
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers })
  const histogram = <L extends string>(
    name: string,
    help: string,
    buckets: number[],
    labelNames: readonly L[] = []
  ) => new Histogram<L>({ name, help, buckets, labelNames, registers })
  return {
    registry,
    runs: counter('workflow_runs_total', 'Runs created and ended, by status', ['status']),
    nodes: counter('node_executions_total', 'Node executions that ended, by type and status', [
      'type',
      'status',
    ]),
    agentDecisions: counter('agent_decisions_total', 'Model calls of agent nodes'),
    agentTokens: counter('agent_tokens_total', 'Tokens used by agent nodes', ['kind']),
    httpRequests: counter(
      'http_requests_total',
      'Outbound requests of http nodes and http_request steps',
      ['status_class']
    ),
    apiRequests: counter('api_requests_total', 'API requests, by route and status', [
      'method',
      'route',
      'status',
    ]),
    approvals: counter('hitl_approvals_total', 'Approvals resolved, by decision', ['decision']),
    completions: counter('completion_signals_total', 'Completion signals routed', ['outcome']),
    rateLimited: counter('rate_limited_total', 'Requests refused by the rate limit', ['tier']),
    websocketConnections: new Gauge({
      name: 'websocket_connections',
      help: 'Open WebSocket connections of the fanout',
      registers,
    }),
    fanoutMessages: counter('fanout_messages_total', 'Event messages sent to fanout clients'),
    websocketDropped: counter(
      'websocket_dropped_total',
      'Fanout clients closed for reading too slowly'
    ),
    apiDuration: histogram('api_request_duration_seconds', 'API request latency', LATENCY_BUCKETS, [
      'method',
      'route',
    ]),
    nodeDuration: histogram(
      'node_duration_seconds',
      'Time a worker spent on a task',
      DURATION_BUCKETS,
      ['type']
    ),
    routingDuration: histogram(
      'routing_duration_seconds',
      'Coordinator time from a completion signal to its commit and dispatch',
      LATENCY_BUCKETS
    ),
    publishToSend: histogram(
      'fanout_publish_to_send_seconds',
      'Time from an event being committed to its sending by the fanout',
      LATENCY_BUCKETS
    ),
  }
}

/** Adds the process metrics (CPU, memory, fds, event loop) once to a registry that is served. */
export function withProcessMetrics(metrics: Metrics): Metrics {
  if (!processMetricsOn.has(metrics.registry)) {
    processMetricsOn.add(metrics.registry)
    collectDefaultMetrics({ register: metrics.registry })
  }
  return metrics
}
const processMetricsOn = new WeakSet<Registry>()

/** The registry as a Prometheus text response. */
export async function metricsResponse(metrics: Metrics): Promise<Response> {
  return new Response(await metrics.registry.metrics(), {
    headers: { 'content-type': metrics.registry.contentType },
  })
}

/** One value of a counter or gauge (tests, benches). */
export async function valueOf(
  metric: { get(): Promise<{ values: { value: number; labels: object }[] }> },
  labels: Record<string, string> = {}
): Promise<number> {
  const { values } = await metric.get()
  const hit = values.find((v) => {
    const have = v.labels as Record<string, unknown>
    const keys = Object.keys(labels)
    return keys.length === Object.keys(have).length && keys.every((k) => have[k] === labels[k])
  })
  return hit?.value ?? 0
}
