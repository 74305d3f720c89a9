'use strict'
// A 100 MB upload streams through to the app (upload_count) in many http.request messages with a
// matching sha256, while the serving process's memory stays bounded: the request body is never
// buffered whole. The server runs in a child process so that its RSS can be measured alone.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Readable } = require('node:stream')
const { request } = require('undici')
const { startChildServer, sleep } = require('./helpers')

const TOTAL = 100 * 1024 * 1024
const PIECE = 256 * 1024
const MAX_GROWTH = 150 * 1024 * 1024

let served

before(async () => {
  served = await startChildServer('raw_apps:upload_count')
})

after(async () => {
  await served?.close()
})

/** A Readable of `total` deterministic bytes, generated piece by piece; `digest()` after it ended. */
function generatedBody (total) {
  const hash = crypto.createHash('sha256')
  const piece = Buffer.alloc(PIECE)
  let sent = 0
  let index = 0
  const stream = new Readable({
    read () {
      if (sent >= total) {
        this.push(null)
        return
      }
      const n = Math.min(PIECE, total - sent)
      piece.fill(index++ % 251)
      piece.writeUInt32BE(index, 0)
      const chunk = Buffer.from(piece.subarray(0, n)) // a copy: the stream may hold it
      hash.update(chunk)
      sent += n
      this.push(chunk)
    }
  })
  return { stream, digest: () => hash.digest('hex') }
}

/** Samples `served.rss()` every 100 ms until `stop()`; returns { stop, max }. */
function sampleRss () {
  let max = served.rss()
  const timer = setInterval(() => { max = Math.max(max, served.rss()) }, 100)
  return { stop: () => { clearInterval(timer); max = Math.max(max, served.rss()); return max } }
}

test('a small upload is counted (warm-up, baseline)', async () => {
  const { statusCode, body } = await request(`${served.url}/`, { method: 'POST', body: 'abc' })
  assert.equal(statusCode, 200)
  const result = await body.json()
  assert.equal(result.bytes, 3)
  assert.equal(result.sha256, crypto.createHash('sha256').update('abc').digest('hex'))
})

test('a 100 MB streamed upload arrives whole with a matching sha256, RSS growth < 150 MB', { timeout: 60000 }, async (t) => {
  await sleep(200)
  const baseline = served.rss()
  const sampler = sampleRss()
  const { stream, digest } = generatedBody(TOTAL)
  let result
  try {
    const { statusCode, body } = await request(`${served.url}/upload`, { method: 'POST', body: stream })
    assert.equal(statusCode, 200)
    result = await body.json()
  } finally {
    const max = sampler.stop()
    const growth = max - baseline
    t.diagnostic(`server RSS baseline ${(baseline / 1048576).toFixed(1)} MB, max ${(max / 1048576).toFixed(1)} MB`)
    assert.ok(growth < MAX_GROWTH, `server RSS grew by ${(growth / 1048576).toFixed(1)} MB (baseline ${(baseline / 1048576).toFixed(1)} MB, max ${(max / 1048576).toFixed(1)} MB)`)
  }
  assert.equal(result.bytes, TOTAL)
  assert.equal(result.sha256, digest())
  assert.ok(result.chunks > 10, `the body reached the app in only ${result.chunks} message(s)`)
  t.diagnostic(`the app received ${result.chunks} non-empty http.request messages`)
  assert.equal(result.messages >= result.chunks, true)
})

test('a 30 MB upload with a Content-Length to a slow consumer (1 ms per message) stays bounded', { timeout: 60000 }, async () => {
  // ?delay makes the app sleep 1 ms after each message: Node must pause reading, not buffer.
  const total = 30 * 1024 * 1024
  await sleep(200)
  const baseline = served.rss()
  const sampler = sampleRss()
  const { stream, digest } = generatedBody(total)
  let result
  try {
    const { statusCode, body } = await request(`${served.url}/slow?delay=0.001`, {
      method: 'POST',
      body: stream,
      headers: { 'content-length': String(total) }
    })
    assert.equal(statusCode, 200)
    result = await body.json()
  } finally {
    const growth = sampler.stop() - baseline
    assert.ok(growth < MAX_GROWTH, `server RSS grew by ${(growth / 1048576).toFixed(1)} MB`)
  }
  assert.equal(result.bytes, total)
  assert.equal(result.sha256, digest())
})
