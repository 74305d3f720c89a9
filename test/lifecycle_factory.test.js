'use strict'
// factory: true calls the named attribute to obtain the ASGI app.
const test = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler, PythonError } = require('..')
const { FIXTURES, captureLogger, startServer } = require('./helpers')

test('factory: true serves the app the factory returns', async (t) => {
  const served = await startServer('raw_apps:create_app', { factory: true })
  t.after(() => served.close())
  const res = await fetch(served.url, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'Hello, world!')
})

test('factory: true with an alias of the factory', async (t) => {
  const served = await startServer('raw_apps:app_factory', { factory: true })
  t.after(() => served.close())
  assert.equal((await served.handler.handleRequest({ url: '/' })).body.toString(), 'Hello, world!')
})

test('without factory: true, a factory is called as an ASGI app and the request fails', async (t) => {
  // create_app() takes no arguments: calling it with (scope, receive, send) raises TypeError.
  const logger = captureLogger()
  const handler = new PythonHandler({ app: 'raw_apps:create_app', appDir: FIXTURES, logger, lifespan: 'off' })
  t.after(() => handler.close())
  const started = await handler.start().then(() => true, (err) => err)
  if (started !== true) {
    assert.ok(started instanceof PythonError) // refusing it at load time is also reasonable
    return
  }
  const res = await handler.handleRequest({ url: '/' })
  assert.equal(res.status, 500)
})

test('factory: true with a non-callable attribute rejects start() with TypeError', async () => {
  const handler = new PythonHandler({ app: 'raw_apps:not_callable', appDir: FIXTURES, logger: captureLogger(), factory: true })
  await assert.rejects(handler.start(), (err) => err instanceof PythonError && err.type === 'TypeError' && /not callable/.test(err.pythonMessage))
})
