/**
 * Every Redis key and channel name aob uses, built in one place. A topic's stream and its
 * delayed set share the `{topic}` hash tag so the scripts touching both stay valid on Redis
 * Cluster; keys scoped to a run carry the `{run_id}` hash tag.
 * @module
 */
export function redisKeys(prefix: string) {
  return {
    stream: (topic: string) => `${prefix}{${topic}}`,
    delayed: (topic: string) => `${prefix}{${topic}}:delayed`,
    channel: (name: string) => `${prefix}${name}`,
    /** A run's bounded event history (the fanout replays from it). */
    history: (runId: string) => `${prefix}{${runId}}:events`,
    /** A worker's scratch state of a run (agent checkpoints). */
    state: (runId: string, key: string) => `${prefix}{${runId}}:state:${key}`,
    /** A rate-limit budget (its GCRA theoretical arrival time). */
    rateLimit: (key: string) => `${prefix}aob:rate:${key}`,
    /** Present while Redis keeps aob's queues; its absence means they were lost. */
    generation: () => `${prefix}aob:generation`,
  }
}
