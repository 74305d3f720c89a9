'use strict'
// handler.fetch() errors: TypeErrors naming the argument or option, a used body, a closed handler,
// an app that fails after starting its response, a body longer than its Content-Length; and
// handler.fetch works unbound (as Hono's mount() calls it). None leaves a request pending.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler, PythonError } = require('..')
const { FIXTURES, captureLogger } = require('./helpers')

let handler

before(async () => {
  handler = new PythonHandler({ app: 'fetch_apps:app', appDir: FIXTURES, logger: captureLogger(), timeoutGracefulShutdown: 10 })
  await handler.start()
})

after(async () => {
  // A request left pending would hold close() until the graceful-shutdown timeout (10 s)
  const began = Date.now()
  await handler.close()
  assert.ok(Date.now() - began < 5000, `close() took ${Date.now() - began} ms: a request was left pending`)
})

test('a non-Request argument is a TypeError naming it', async () => {
  for (const value of [undefined, null, 'http://localhost/', { url: 'http://localhost/' }, new URL('http://localhost/')]) {
    await assert.rejects(handler.fetch(value), { name: 'TypeError', message: /fetch\(\) 'request' must be a Request/ })
  }
})

test('bad options are TypeErrors naming the option', async () => {
  const request = () => new Request('http://localhost/scope')
  await assert.rejects(handler.fetch(request(), 'x'), { name: 'TypeError', message: /'options'/ })
  await assert.rejects(handler.fetch(request(), { rootpath: '/a' }), { name: 'TypeError', message: /unknown fetch\(\) option 'rootpath'/ })
  await assert.rejects(handler.fetch(request(), { rootPath: 'a' }), { name: 'TypeError', message: /'rootPath'/ })
  await assert.rejects(handler.fetch(request(), { client: '1.2.3.4:5' }), { name: 'TypeError', message: /'client'/ })
  await assert.rejects(handler.fetch(request(), { client: ['1.2.3.4', 70000] }), { name: 'TypeError', message: /'client'/ })
})

test('a body already used (read or locked) is a TypeError', async () => {
  const used = new Request('http://localhost/echo', { method: 'POST', body: 'x' })
  await used.text()
  await assert.rejects(handler.fetch(used), { name: 'TypeError', message: /body is already used/ })
  const locked = new Request('http://localhost/echo', { method: 'POST', body: 'x' })
  locked.body.getReader()
  await assert.rejects(handler.fetch(locked), { name: 'TypeError', message: /body is already used/ })
})

test('a closed handler rejects with its documented error; one never started starts on first use', async () => {
  const other = new PythonHandler({ app: 'fetch_apps:app', appDir: FIXTURES, logger: captureLogger() })
  const res = await other.fetch(new Request('http://localhost/status?code=200'))
  assert.equal(await res.text(), 'body')
  await other.close()
  await assert.rejects(other.fetch(new Request('http://localhost/scope')), /^Error: node-asgi: the handler closed$/)
})

test('an exception before the response starts gives a 500 Response, and appError', async () => {
  const errors = []
  handler.on('appError', (err) => errors.push(err))
  const res = await handler.fetch(new Request('http://localhost/raise-before-start'))
  assert.equal(res.status, 500)
  assert.equal(await res.text(), 'Internal Server Error')
  assert.equal(errors.length, 1)
  assert.ok(errors[0] instanceof PythonError && errors[0].type === 'ValueError')
  handler.removeAllListeners('appError')
})

test('an exception after the response started errors the body with the PythonError', async () => {
  const res = await handler.fetch(new Request('http://localhost/raise-after-start'))
  const reader = res.body.getReader()
  assert.equal(Buffer.from((await reader.read()).value).toString(), 'partial')
  await assert.rejects(reader.read(), (err) => err instanceof PythonError && err.type === 'RuntimeError' && err.incomplete === true)
})

test('a body longer than its Content-Length errors the body (the app is disconnected; its next send() is dropped)', async () => {
  const res = await handler.fetch(new Request('http://localhost/longer-than-declared?id=cl'))
  await assert.rejects(res.arrayBuffer(), /longer than its Content-Length \(3\)/)
})

test('handler.fetch works unbound', async () => {
  const { fetch } = handler
  const res = await fetch(new Request('http://localhost/status?code=200'))
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'body')
})
