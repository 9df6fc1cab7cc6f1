/** What the crash tests check in Postgres after the storm. */
import postgres from 'postgres'

export async function ledger(env: Record<string, string>, runIds: string[]) {
  const sql = postgres(env.AOB_DATABASE_URL, {
    onnotice: () => {},
    max: 2,
    connection: { search_path: env.AOB_DATABASE_SCHEMA },
  })
  try {
    const statuses = await sql<
      { status: string; n: number }[]
    >`SELECT status, count(*)::int AS n FROM runs WHERE id = ANY(${runIds}) GROUP BY status`
    // Each (run, node, activation) may have at most one node_completed event and one ledger row.
    const [dupEvents] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM (
      SELECT run_id, node_id, data->>'iteration' FROM events WHERE type = 'node_completed' AND run_id = ANY(${runIds})
      GROUP BY 1, 2, 3 HAVING count(*) > 1) d`
    const [completions] = await sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM node_completions WHERE run_id = ANY(${runIds}) AND status = 'succeeded'`
    const [events] = await sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM events WHERE type = 'node_completed' AND run_id = ANY(${runIds})`
    const [gaps] = await sql<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM runs r WHERE id = ANY(${runIds}) AND last_seq <> (SELECT count(*) FROM events e WHERE e.run_id = r.id)`
    return {
      byStatus: Object.fromEntries(statuses.map((s) => [s.status, s.n])) as Record<string, number>,
      duplicateCommits: dupEvents.n + Math.abs(completions.n - events.n),
      committed: completions.n,
      seqGaps: gaps.n,
    }
  } finally {
    await sql.end()
  }
}

/** Tasks the worker processes executed, from their debug logs. */
export function executions(outputs: string[]): number {
  return outputs.reduce((n, out) => n + (out.match(/"msg":"task executed"/g)?.length ?? 0), 0)
}

/**
 * Recovery time after a disruption: how long from `since` until Postgres commits a node
 * completion again (null if none within `timeoutMs`).
 */
export async function recoveryTime(
  env: Record<string, string>,
  since: number,
  timeoutMs = 30_000
): Promise<number | null> {
  const sql = postgres(env.AOB_DATABASE_URL, {
    onnotice: () => {},
    max: 1,
    connection: { search_path: env.AOB_DATABASE_SCHEMA },
  })
  try {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const [row] = await sql<
        { at: Date | null }[]
      >`SELECT max(committed_at) AS at FROM node_completions`.catch(() => [{ at: null }])
      if (row.at && row.at.getTime() > since) return row.at.getTime() - since
      await Bun.sleep(50)
    }
    return null
  } finally {
    await sql.end()
  }
}
