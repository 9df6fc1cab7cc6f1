import { expect, test } from 'bun:test'
import { BINARIES } from '../../scripts/build.ts'

test('compose.yaml: every service builds a known binary target or uses Redis/Postgres, with health checks and health-gated order', async () => {
  const compose = Bun.YAML.parse(await Bun.file('compose.yaml').text()) as any
  const dockerfile = await Bun.file('Dockerfile').text()
  const stages = new Set([...dockerfile.matchAll(/^FROM .+ AS (\S+)$/gm)].map((m) => m[1]))
  const services = compose.services as Record<string, any>
  expect(Object.keys(services).sort()).toEqual([
    'agent-worker',
    'builtin-worker',
    'coordinator',
    'fanout',
    'hitl-worker',
    'http-worker',
    'migrate',
    'orchestrator',
    'postgres',
    'redis',
  ])
  for (const [name, svc] of Object.entries(services)) {
    if (svc.image) {
      expect({ name, image: svc.image }).toEqual({
        name,
        image: expect.stringMatching(/^(redis|postgres):/),
      })
      expect(svc.healthcheck).toBeDefined()
      continue
    }
    const target = svc.build?.target
    expect({ name, inDockerfile: stages.has(target), isBinary: target in BINARIES }).toEqual({
      name,
      inDockerfile: true,
      isBinary: true,
    })
    if (name !== 'migrate')
      expect({ name, healthcheck: Boolean(svc.healthcheck) }).toEqual({ name, healthcheck: true })
    for (const [dep, cond] of Object.entries(svc.depends_on ?? {})) {
      expect(services[dep]).toBeDefined()
      expect(['service_healthy', 'service_completed_successfully']).toContain(
        (cond as any).condition
      )
    }
  }
  expect(services.redis.command.join(' ')).toContain('--appendonly yes')
  expect(services.migrate.command).toEqual(['migrate'])
})
