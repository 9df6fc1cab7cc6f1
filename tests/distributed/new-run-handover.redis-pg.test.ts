/**
 * The first completion of a run created by another process is routed from the state its
 * creator handed over through Redis, with no read of Postgres.
 */
import { afterAll, expect, test } from 'bun:test'
import { startCoordinator } from '../../src/coordinator/coordinator.ts'
import { createKernel, type Kernel } from '../../src/kernel.ts'
import { createLogger } from '../../src/log.ts'
import { createRun } from '../../src/runs/create-run.ts'
import { runnableWorkflow } from '../../src/runs/workflows.ts'
import { startBuiltinWorker } from '../../workers/builtin/start.ts'
import { distributedEnv, testConfig } from '../helpers/kernel.ts'
import { waitFor } from '../helpers/wait-for.ts'

const env = await distributedEnv()
const open: Kernel[] = []
const kernel = async () => {
  const config = testConfig({}, env)
  const k = await createKernel(config, { log: createLogger('silent', 'test'), migrate: true })
  open.push(k)
  return k
}
afterAll(async () => {
  for (const k of open) await k.close()
})

const chain = {
  name: 'handover',
  nodes: [
    { id: 'a', type: 'noop' },
    { id: 'b', type: 'noop' },
  ],
  edges: [{ from: 'a', to: 'b' }],
}

test('a coordinator routes a new run created elsewhere without reading it', async () => {
  const api = await kernel()
  const routing = await kernel()
  let loads = 0
  const loadRun = routing.store.loadRun.bind(routing.store)
  routing.store.loadRun = (id) => {
    loads++
    return loadRun(id)
  }
  const services = [
    await startCoordinator(routing, { visibilityMs: 5_000 }),
    ...startBuiltinWorker(routing, {}),
  ]
  try {
    // As POST /runs does: the workflow stored by content id, then the runs.
    const wf = await runnableWorkflow(api, chain, api.config.limits)
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const { run } = await createRun(api, {
        workflowId: wf.id,
        document: wf.workflow,
        ir: wf.ir,
        input: { i },
      })
      ids.push(run.id)
    }
    for (const id of ids)
      await waitFor(
        async () => (await api.store.loadRun(id as never))?.run.status === 'succeeded' || null,
        10_000,
        `run ${id} to succeed`
      )
    expect(loads).toBe(0)
  } finally {
    for (const s of services) await s.stop()
  }
})
