'use strict'
// A response without Content-Length streams as the app sends it: chunked transfer-encoding on
// HTTP/1.1 (one chunk per body message), close-delimited on HTTP/1.0; chunks arrive before the
// app has finished.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { request } = require('undici')
const { startServer, rawRequest, parseResponse, decodeChunked } = require('./helpers')

let served
let delayed

before(async () => {
  served = await startServer('raw_apps:streaming')
  delayed = await startServer('test_http_timing:head_then_wait')
})

after(async () => {
  await served?.close()
  await delayed?.close()
})

const expected = (count, size) => Array.from({ length: count }, (_, i) => 'x'.repeat(size - 1) + String(i % 10)).join('')

test('HTTP/1.1: chunked encoding, one chunk per body message, terminated by a zero chunk', async () => {
  const { data, ended } = await rawRequest(served.port,
    'GET /?chunks=3&size=10 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
  assert.ok(ended)
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  assert.deepEqual(res.headers['transfer-encoding'], ['chunked'])
  assert.equal(res.headers['content-length'], undefined)
  const decoded = decodeChunked(res.body)
  assert.ok(decoded.complete, 'no terminating zero-size chunk')
  assert.equal(decoded.rest.length, 0, 'bytes after the last chunk')
  assert.deepEqual(decoded.chunks.map(String), ['xxxxxxxxx0', 'xxxxxxxxx1', 'xxxxxxxxx2'])
})

test('HTTP/1.1: the connection stays usable after a chunked response (keep-alive)', async () => {
  const { data } = await rawRequest(served.port, [
    'GET /?chunks=2&size=5 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
    'GET /?chunks=1&size=3 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
  ], { gapMs: 100 })
  const first = parseResponse(data)
  const firstBody = decodeChunked(first.body)
  assert.ok(firstBody.complete)
  assert.equal(firstBody.body.toString(), expected(2, 5))
  const second = parseResponse(firstBody.rest)
  assert.equal(second.status, 200)
  assert.equal(decodeChunked(second.body).body.toString(), expected(1, 3))
})

test('HTTP/1.0: no chunked encoding, the body is delimited by closing the connection', async () => {
  const { data, ended, timedOut } = await rawRequest(served.port, 'GET /?chunks=4&size=8 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')
  assert.ok(ended && !timedOut, 'the server did not close the HTTP/1.0 connection')
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  assert.equal(res.headers['transfer-encoding'], undefined)
  assert.equal(res.headers['content-length'], undefined)
  assert.equal(res.body.toString(), expected(4, 8))
})

test('chunks arrive as they are sent, before the app finishes', async () => {
  // 5 chunks, 300 ms apart: the first must be readable long before the last is sent (1.2 s).
  const started = Date.now()
  const { statusCode, headers, body } = await request(`${served.url}/?chunks=5&size=16&delay=0.3`)
  assert.equal(statusCode, 200)
  assert.equal(headers['transfer-encoding'], 'chunked')
  const arrivals = []
  let text = ''
  for await (const chunk of body) {
    arrivals.push(Date.now() - started)
    text += chunk.toString()
  }
  assert.equal(text, expected(5, 16))
  assert.ok(arrivals.length >= 3, `expected the body in several reads, got ${arrivals.length}`)
  assert.ok(arrivals[0] < 800, `first chunk arrived after ${arrivals[0]} ms`)
  assert.ok(arrivals.at(-1) >= 1100, `last chunk arrived after ${arrivals.at(-1)} ms, before the app sent it`)
})

test('many small chunks (1000 x 100 bytes) arrive complete and in order', async () => {
  const res = await fetch(`${served.url}/?chunks=1000&size=100`)
  assert.equal(res.status, 200)
  assert.equal(await res.text(), expected(1000, 100))
})

test('empty more_body messages do not end the chunked response early', async () => {
  // size=0: every body message is empty; the client sees a complete, empty chunked body.
  const { data } = await rawRequest(served.port, 'GET /?chunks=5&size=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  const decoded = decodeChunked(res.body)
  assert.ok(decoded.complete)
  assert.equal(decoded.body.length, 0)
  assert.equal(decoded.rest.length, 0)
})

test('the response head is sent when the app sends http.response.start, before any body', async () => {
  // head_then_wait sends the start, then waits 2 s before its body (uvicorn writes the head at once;
  // a client waiting on a slow first event, e.g. server-sent events, sees the status right away).
  const started = Date.now()
  let headAt = null
  const { data, ended } = await rawRequest(delayed.port, 'GET /?seconds=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n', {
    timeoutMs: 5000,
    until: (bytes) => {
      if (headAt === null && bytes.indexOf('\r\n\r\n') >= 0) headAt = Date.now() - started
      return false
    }
  })
  assert.ok(ended)
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  assert.equal(decodeChunked(res.body).body.toString(), 'late')
  assert.ok(headAt !== null && headAt < 1000, `the response head arrived after ${headAt} ms, with the body, not when the app started the response`)
})
