/** GET /api/v1/openapi.json: generated from the routes and their schemas, complete and true. */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import SwaggerParser from '@apidevtools/swagger-parser'
import { operationsOf } from '../../src/orchestrator/openapi.ts'
import { testPlatform, type TestPlatform } from '../helpers/kernel.ts'

let p: TestPlatform
let document: any
beforeAll(async () => {
  p = await testPlatform()
  const res = await p.app.request('/api/v1/openapi.json') // no token needed
  expect(res.status).toBe(200)
  document = await res.json()
})
afterAll(() => p.close())

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

test('a valid OpenAPI 3.1 document', async () => {
  expect(document.openapi).toBe('3.1.0')
  await SwaggerParser.validate(structuredClone(document))
})

test('every route of the app is documented and in the document', () => {
  const ops = operationsOf(p.app, '/api/v1')
  expect(ops.length).toBeGreaterThan(25)
  expect(ops.filter((o) => !o.doc).map((o) => `${o.method} ${o.path}`)).toEqual([])
  for (const o of ops) {
    const path = o.path.slice('/api/v1'.length).replace(/:([A-Za-z_]\w*)(\{[^}]*\})?/g, '{$1}')
    expect({
      route: `${o.method} ${path}`,
      documented: !!document.paths[path]?.[o.method.toLowerCase()],
    }).toEqual({
      route: `${o.method} ${path}`,
      documented: true,
    })
  }
})

test('every documented operation exists (a request reaches a route, not the 404 of no route)', async () => {
  for (const [path, item] of Object.entries<any>(document.paths))
    for (const method of METHODS.filter((m) => item[m])) {
      const url = `/api/v1${path.replace(/\{decision\}/, 'approve').replace(/\{[^}]+\}/g, 'x')}`
      const res = await p.call(
        method.toUpperCase(),
        url.slice('/api/v1'.length),
        method === 'get' ? undefined : {}
      )
      const noRoute = res.status === 404 && /^no route/.test(res.body?.error?.message ?? '')
      expect({ op: `${method} ${path}`, noRoute }).toEqual({
        op: `${method} ${path}`,
        noRoute: false,
      })
    }
  const none = await p.call('GET', '/not-a-route')
  expect(none.body.error.message).toStartWith('no route') // the check above can fail
})

test('request bodies come from the schemas that validate them', () => {
  const create = document.paths['/runs'].post.requestBody.content['application/json'].schema
  expect(Object.keys(create.properties).sort()).toEqual(['idempotency_key', 'input', 'workflow'])
  expect(create.additionalProperties).toBe(false)
  expect(create.required).toEqual(['workflow'])
  const decide =
    document.paths['/approvals/{id}/decide'].post.requestBody.content['application/json'].schema
  expect(decide.properties.decision.enum ?? decide.properties.decision.anyOf).toBeDefined()
  const workflow = document.paths['/workflows'].post.requestBody.content['application/json'].schema
  expect(workflow.required).toContain('nodes')
  expect(document.paths['/patches/{id}/{decision}'].post.parameters[1].schema.enum).toEqual([
    'approve',
    'reject',
  ])
})
