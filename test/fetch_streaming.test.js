'use strict'
// handler.fetch() streams both ways with backpressure: the Response arrives while the app is still
// sending, the app's send() waits for the body's reader, and the request body is pulled from its
// ReadableStream only as the app receives it.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { createHash } = require('node:crypto')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger, waitFor } = require('./helpers')

let handler
const HIGH_WATER = 64 * 1024

before(async () => {
  handler = new PythonHandler({ app: 'fetch_apps:app', appDir: FIXTURES, logger: captureLogger(), requestHighWater: HIGH_WATER, responseHighWater: HIGH_WATER })
  await handler.start()
})

after(() => handler.close())

const get = (path, init) => handler.fetch(new Request(`http://localhost${path}`, init))
const record = async (id) => (await get(`/record?id=${id}`)).json()

test('the Response and its first chunk arrive before the app finishes', async () => {
  const res = await get('/gated-stream?id=s1')
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-type'), 'text/plain')
  const reader = res.body.getReader()
  const first = await reader.read()
  assert.equal(Buffer.from(first.value).toString(), 'first')
  assert.deepEqual(await record('s1'), { first_sent: true }, 'the app is still waiting at its gate')
  await get('/open?id=s1')
  const rest = []
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(Buffer.from(r.value))
  assert.equal(Buffer.concat(rest).toString(), 'second')
  assert.equal((await record('s1')).finished, true)
})

test('response backpressure: the app\'s send() waits while the body is not read, then all bytes arrive in order', async () => {
  const res = await get('/download?id=d1&kb=4096') // 4 MiB in 16 KiB messages
  const reader = res.body.getReader()
  await waitFor(async () => (await record('d1')).sent > 0)
  await new Promise((resolve) => setTimeout(resolve, 300))
  const stalled = await record('d1')
  assert.equal(stalled.complete, undefined)
  assert.ok(stalled.sent <= 4 * HIGH_WATER, `unread, the app may run ahead by about the high-water marks, it sent ${stalled.sent} of 4 MiB`)
  let total = 0
  let ok = true
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    for (let i = 0; i < r.value.length; i += 4099) ok &&= r.value[i] === (total + i) % 256
    total += r.value.length
  }
  assert.equal(total, 4096 * 1024)
  assert.ok(ok, 'byte k is k % 256')
  assert.equal((await record('d1')).complete, true)
})

test('request backpressure: the body is pulled only as the app receives, then arrives whole', async () => {
  const chunk = Buffer.alloc(16 * 1024, 7)
  const total = 64 // 1 MiB
  let pulled = 0
  const source = new ReadableStream({
    pull (controller) {
      if (pulled === total) {
        controller.close()
        return
      }
      pulled++
      controller.enqueue(new Uint8Array(chunk))
    }
  }, { highWaterMark: 0 })
  const responding = get('/gated-upload?id=u1', { method: 'POST', body: source, duplex: 'half' })
  await waitFor(() => pulled > 0)
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.ok(pulled * chunk.length <= HIGH_WATER + 2 * chunk.length, `while the app does not receive, reading stops near requestHighWater: pulled ${pulled * chunk.length} bytes`)
  await get('/open?id=u1')
  const res = await responding
  const expected = createHash('sha256')
  for (let i = 0; i < total; i++) expected.update(chunk)
  assert.deepEqual(await res.json(), { bytes: total * chunk.length, sha256: expected.digest('hex') })
  assert.equal(pulled, total)
})

test('a string body and a binary body arrive byte for byte; an empty POST sends one empty http.request', async () => {
  const text = await get('/echo', { method: 'POST', body: 'héllo wörld' })
  assert.equal(await text.text(), 'héllo wörld')
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  const binary = await get('/echo', { method: 'PUT', body: bytes })
  assert.equal(binary.headers.get('x-method'), 'PUT')
  assert.ok(Buffer.from(await binary.arrayBuffer()).equals(bytes))
  const empty = await get('/echo', { method: 'POST' })
  assert.equal(empty.headers.get('x-messages'), '1')
  assert.equal(await empty.text(), '')
})
