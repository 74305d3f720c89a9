'use strict'
// lifespan 'auto' | 'on' | 'off', and lifespan.startup.failed.
const test = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler, PythonError } = require('..')
const { FIXTURES, captureLogger } = require('./helpers')

function handlerFor (app, options = {}) {
  const logger = captureLogger()
  return { logger, handler: new PythonHandler({ app, appDir: FIXTURES, logger, ...options }) }
}

test('lifespan.startup.failed rejects start() with a PythonError carrying the app\'s message', async () => {
  const { handler, logger } = handlerFor('raw_apps:lifespan_failed')
  const error = await handler.start().then(() => null, (err) => err)
  assert.ok(error instanceof PythonError, `expected a PythonError, got ${error}`)
  assert.equal(error.pythonMessage, 'database unreachable')
  assert.match(error.message, /database unreachable/)
  assert.equal(typeof error.type, 'string')
  assert.equal(typeof error.traceback, 'string')
  assert.equal(handler.state, 'failed')
  assert.match(logger.text(), /database unreachable/, 'the failure is logged')
  await assert.rejects(handler.handleRequest({ url: '/' }))
  await handler.close()
})

test('lifespan.startup.failed with lifespan "on" rejects too', async () => {
  const { handler } = handlerFor('raw_apps:lifespan_failed', { lifespan: 'on' })
  await assert.rejects(handler.start(), (err) => err instanceof PythonError && err.pythonMessage === 'database unreachable')
})

test('lifespan "auto": an app that raises for the lifespan scope is served anyway', async () => {
  const { handler, logger } = handlerFor('raw_apps:lifespan_raises', { logLevel: 'info' })
  await handler.start()
  assert.equal(handler.state, 'started')
  const res = await handler.handleRequest({ url: '/' })
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'ok')
  assert.match(logger.text(), /ASGI 'lifespan' protocol appears unsupported\./)
  assert.equal(logger.lines.filter((l) => l.level === 'error').length, 0, `no error logged in auto mode: ${logger.text()}`)
  await handler.close()
})

test('lifespan "on": an app that raises for the lifespan scope fails start() with its exception', async () => {
  const { handler, logger } = handlerFor('raw_apps:lifespan_raises', { lifespan: 'on' })
  const error = await handler.start().then(() => null, (err) => err)
  assert.ok(error instanceof PythonError, `expected a PythonError, got ${error}`)
  assert.equal(error.type, 'RuntimeError')
  assert.equal(error.pythonMessage, 'no lifespan here')
  assert.match(error.traceback, /no lifespan here/)
  assert.match(error.traceback, /raw_apps\.py/)
  assert.equal(handler.state, 'failed')
  assert.match(logger.text(), /no lifespan here/)
  await handler.close()
})

test('lifespan "off": the lifespan scope is never run (a failing startup does not matter)', async () => {
  const { handler } = handlerFor('raw_apps:lifespan_failed', { lifespan: 'off' })
  await handler.start()
  const res = await handler.handleRequest({ url: '/' })
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'served despite failed startup')
  await handler.close()
})

test('lifespan "off": an app raising for lifespan logs nothing and requests get an empty state', async () => {
  const { handler, logger } = handlerFor('raw_apps:lifespan_raises', { lifespan: 'off', logLevel: 'debug' })
  await handler.start()
  assert.equal((await handler.handleRequest({ url: '/' })).body.toString(), 'ok')
  await handler.close()
  assert.doesNotMatch(logger.text(), /lifespan/i)

  const stateful = handlerFor('raw_apps:lifespan_state', { lifespan: 'off' }).handler
  await stateful.start()
  const answer = JSON.parse((await stateful.handleRequest({ url: '/' })).body)
  assert.equal(answer.started, null, 'startup never ran')
  await stateful.close()
})

test('lifespan "off" never runs the lifespan scope (scope_json saw none)', async () => {
  const { handler } = handlerFor('raw_apps:scope_json', { lifespan: 'off' })
  await handler.start()
  const res = await handler.handleRequest({ url: '/?show=lifespan' })
  // scope_json's module-level record is shared across handlers in this process; none ran yet here.
  assert.equal(res.body.toString(), 'null')
  await handler.close()
})
