'use strict'
// close(): waits for requests in flight, then refuses new ones with 503.
const test = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger, startServer, sleep, rawRequest, parseResponse } = require('./helpers')

test('close() waits for an in-flight long-poll to be answered, then resolves', async (t) => {
  const served = await startServer('raw_apps:long_poll')
  t.after(() => served.close())
  const began = Date.now()
  const poll = fetch(`${served.url}/?seconds=1`, { signal: AbortSignal.timeout(10000) })
    .then(async (res) => ({ status: res.status, body: await res.text(), at: Date.now() }))
  await sleep(200) // the request is in the app
  let closedAt = 0
  const closing = served.handler.close().then(() => { closedAt = Date.now() })
  assert.equal(served.handler.state, 'closing')
  const answer = await poll
  assert.equal(answer.status, 200)
  assert.equal(answer.body, 'done')
  await closing
  assert.ok(closedAt >= answer.at - 50, 'close() resolved after the response')
  assert.ok(closedAt - began >= 900, `close() waited for the 1 s poll (${closedAt - began} ms)`)
  assert.ok(closedAt - began < 5000)
  assert.equal(served.handler.state, 'closed')
})

test('a request that arrives while close() waits gets 503 and the in-flight one still completes', async (t) => {
  const served = await startServer('raw_apps:long_poll')
  t.after(() => served.close())
  const poll = fetch(`${served.url}/?seconds=0.8`, { signal: AbortSignal.timeout(10000) }).then(async (r) => [r.status, await r.text()])
  await sleep(150)
  const closing = served.handler.close()
  const late = await rawRequest(served.port, 'GET /?seconds=0 HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 5000 })
  const parsed = parseResponse(late.data)
  assert.ok(parsed, `a response: ${late.data}`)
  assert.equal(parsed.status, 503)
  assert.deepEqual(await poll, [200, 'done'])
  await closing
})

test('requests after close() resolved get 503 over HTTP and handleRequest() rejects', async (t) => {
  const served = await startServer('raw_apps:hello')
  t.after(() => served.close())
  assert.equal((await fetch(served.url)).status, 200)
  await served.handler.close()
  const res = await fetch(served.url, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 503)
  await res.arrayBuffer()
  await assert.rejects(served.handler.handleRequest({ url: '/' }))
})

test('start() after close() does not restart the handler', async () => {
  const handler = new PythonHandler({ app: 'raw_apps:hello', appDir: FIXTURES, logger: captureLogger() })
  await handler.start()
  await handler.close()
  await handler.start().then(
    () => {}, // start() is documented as idempotent: returning the earlier resolved promise is acceptable
    (err) => assert.ok(err instanceof Error)
  )
  assert.equal(handler.state, 'closed')
})

test('close() before start() resolves at once and the handler refuses requests', async () => {
  const handler = new PythonHandler({ app: 'raw_apps:hello', appDir: FIXTURES, logger: captureLogger() })
  await handler.close()
  assert.equal(handler.state, 'closed')
  await assert.rejects(handler.handleRequest({ url: '/' }))
})

test('timeoutGracefulShutdown: close() cancels a request that takes too long and resolves', async (t) => {
  const logger = captureLogger()
  const served = await startServer('raw_apps:long_poll', { timeoutGracefulShutdown: 0.3, logger })
  t.after(() => served.close())
  const poll = rawRequest(served.port, 'GET /?seconds=30 HTTP/1.1\r\nHost: x\r\n\r\n', { timeoutMs: 10000 })
  await sleep(150)
  const began = Date.now()
  await served.handler.close()
  assert.ok(Date.now() - began < 3000, `close() took ${Date.now() - began} ms with a 0.3 s timeout`)
  const result = await poll
  assert.equal(result.timedOut, false, 'the connection of the cancelled request is closed')
  assert.match(logger.text(), /timeout graceful shutdown exceeded/i)
})

test('close() while start() is still running: start settles, then the handler closes', async () => {
  const handler = new PythonHandler({ app: 'raw_apps:lifespan_slow_startup', appDir: FIXTURES, logger: captureLogger() })
  const starting = handler.start().then(() => 'resolved', () => 'rejected')
  await sleep(50)
  const closing = handler.close()
  const outcome = await Promise.race([Promise.all([starting, closing]), sleep(5000).then(() => 'timeout')])
  assert.notEqual(outcome, 'timeout', 'start() and close() settle')
  assert.equal(handler.state, 'closed')
})
