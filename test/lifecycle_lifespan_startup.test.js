'use strict'
// Lifespan startup completes before the first request is served, whether start() was awaited or
// the first request started the handler.
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { once } = require('node:events')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger, startServer } = require('./helpers')

test('after start() resolves, a request sees the state set by a slow startup', async (t) => {
  const served = await startServer('raw_apps:lifespan_slow_startup')
  t.after(() => served.close())
  const res = await fetch(`${served.url}/`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { ready: true })
})

test('start() resolves only after the startup coroutine finished (≈0.3 s)', async () => {
  const handler = new PythonHandler({ app: 'raw_apps:lifespan_slow_startup', appDir: FIXTURES, logger: captureLogger() })
  const began = Date.now()
  const started = handler.start()
  assert.equal(handler.state, 'starting')
  await started
  assert.ok(Date.now() - began >= 250, `start() took ${Date.now() - began} ms, startup sleeps 300 ms`)
  assert.equal(handler.state, 'started')
  assert.equal(handler.start(), started, 'start() is idempotent: same promise')
  const res = await handler.handleRequest({ url: '/' })
  assert.deepEqual(JSON.parse(res.body), { ready: true })
  await handler.close()
})

test('requests that arrive before start() resolves wait for startup to complete', async (t) => {
  const handler = new PythonHandler({ app: 'raw_apps:lifespan_slow_startup', appDir: FIXTURES, logger: captureLogger() })
  const server = http.createServer(handler.listener())
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await handler.close()
  })
  const url = `http://127.0.0.1:${server.address().port}/`
  const starting = handler.start()
  const answers = await Promise.all([1, 2, 3].map(() => fetch(url, { signal: AbortSignal.timeout(5000) }).then((r) => r.json())))
  for (const answer of answers) assert.deepEqual(answer, { ready: true })
  await starting
})

test('the first request starts a handler nobody started, after its startup', async (t) => {
  const handler = new PythonHandler({ app: 'raw_apps:lifespan_slow_startup', appDir: FIXTURES, logger: captureLogger() })
  t.after(() => handler.close())
  assert.equal(handler.state, 'new')
  const res = await handler.handleRequest({ url: '/' })
  assert.deepEqual(JSON.parse(res.body), { ready: true })
  assert.equal(handler.state, 'started')
})

test('lifespan startup logs uvicorn\'s messages at info level', async () => {
  const logger = captureLogger()
  const handler = new PythonHandler({ app: 'raw_apps:lifespan_slow_startup', appDir: FIXTURES, logger, logLevel: 'info' })
  await handler.start()
  await handler.close()
  const text = logger.text()
  assert.match(text, /Waiting for application startup\./)
  assert.match(text, /Application startup complete\./)
  assert.match(text, /Waiting for application shutdown\./)
  assert.match(text, /Application shutdown complete\./)
})
