'use strict'
// handler.fetch() and the request's AbortSignal: an abort before the response rejects with the
// signal's reason, an abort while the body streams errors the body with it, a cancelled body is a
// client that left — in each case the app sees http.disconnect, and nothing stays pending.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger, waitFor } = require('./helpers')

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

const get = (path, init) => handler.fetch(new Request(`http://localhost${path}`, init))
const record = async (id) => (await get(`/record?id=${id}`)).json()

test('abort while the body streams: the body errors with an AbortError and the app sees http.disconnect', async () => {
  const controller = new AbortController()
  const res = await get('/until-disconnect?id=a1', { signal: controller.signal })
  const reader = res.body.getReader()
  assert.equal(Buffer.from((await reader.read()).value).toString(), 'first')
  controller.abort()
  await assert.rejects(reader.read(), { name: 'AbortError' })
  await waitFor(async () => (await record('a1')).disconnected === true)
})

test('abort after the app finished, with body unread: the body still errors with the AbortError', async () => {
  const controller = new AbortController()
  const res = await get('/gated-stream?id=a4', { signal: controller.signal })
  const reader = res.body.getReader()
  assert.equal(Buffer.from((await reader.read()).value).toString(), 'first')
  await get('/open?id=a4')
  await waitFor(async () => (await record('a4')).finished === true)
  await new Promise((resolve) => setTimeout(resolve, 50)) // the app's last body and return reach Node
  controller.abort()
  await assert.rejects(reader.read(), { name: 'AbortError' })
})

test('read to the end, then abort: nothing changes', async () => {
  const controller = new AbortController()
  const res = await get('/gated-stream?id=a5', { signal: controller.signal })
  await get('/open?id=a5')
  assert.equal(await res.text(), 'firstsecond')
  controller.abort()
  assert.equal(res.bodyUsed, true)
})

test('abort before the response starts: fetch() rejects with the reason; the app sees http.disconnect', async () => {
  const controller = new AbortController()
  const pending = get('/gated-upload?id=a2', { method: 'POST', body: 'x', signal: controller.signal })
  await new Promise((resolve) => setImmediate(resolve))
  const reason = new Error('changed my mind')
  controller.abort(reason)
  await assert.rejects(pending, (err) => err === reason)
  await get('/open?id=a2') // the app now receives: the client is gone
  await waitFor(async () => (await record('a2')).disconnected === true)
})

test('an already aborted signal rejects at once without reaching the app', async () => {
  await assert.rejects(get('/scope', { signal: AbortSignal.abort() }), { name: 'AbortError' })
})

test('cancelling the body is a client that left: the app sees http.disconnect', async () => {
  const res = await get('/until-disconnect?id=a3')
  await res.body.cancel()
  await waitFor(async () => (await record('a3')).disconnected === true)
})

test('a request body stream that errors: the app sees http.disconnect and fetch() rejects naming the body', async () => {
  let fail
  const body = new ReadableStream({ start (controller) { fail = (err) => controller.error(err) } })
  const pending = get('/echo', { method: 'POST', body, duplex: 'half' })
  await new Promise((resolve) => setImmediate(resolve))
  fail(new Error('source broke'))
  await assert.rejects(pending, (err) => err instanceof TypeError && /could not read the request body/.test(err.message) && err.cause.message === 'source broke')
})

test('a request body chunk that is not a Uint8Array is a TypeError naming it', async () => {
  const body = new ReadableStream({ start (controller) { controller.enqueue('a string'); controller.close() } })
  await assert.rejects(get('/echo', { method: 'POST', body, duplex: 'half' }),
    (err) => err instanceof TypeError && /must be Uint8Array/.test(err.cause.message))
})
