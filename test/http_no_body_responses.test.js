'use strict'
// HEAD requests and 204/304 responses carry no body on the wire, even when the app sends one
// (headers_app always sends "body"), and the connection stays in sync for the next request.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startServer, rawRequest, parseResponse, decodeChunked } = require('./helpers')

let served

before(async () => {
  served = await startServer('raw_apps:headers_app')
})

after(async () => {
  await served?.close()
})

/**
 * Sends `first` then a plain GET on the same connection; returns the first response's head and
 * whatever followed it up to the second response's status line, and the second response.
 */
async function followedByGet (first) {
  const { data } = await rawRequest(served.port, [
    first,
    'GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
  ], { gapMs: 100 })
  const one = parseResponse(data)
  assert.ok(one, `no response in ${JSON.stringify(data.toString('latin1'))}`)
  const nextAt = one.body.indexOf('HTTP/1.1 ')
  assert.ok(nextAt >= 0, `no second response after the first: ${JSON.stringify(one.body.toString('latin1'))}`)
  const between = one.body.subarray(0, nextAt)
  const two = parseResponse(one.body.subarray(nextAt))
  return { one, between, two }
}

test('HEAD: headers only, no body bytes; the next request on the connection is answered', async () => {
  const { one, between, two } = await followedByGet('HEAD /head HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  assert.equal(one.status, 200)
  assert.deepEqual(one.headers['content-type'], ['text/plain; charset=utf-8'])
  assert.equal(between.length, 0, `body bytes after a HEAD response: ${JSON.stringify(between.toString('latin1'))}`)
  assert.equal(two.status, 200)
  assert.equal(two.body.toString(), 'body')
})

test('HEAD without a content-length: no chunked body either', async () => {
  const { one, between } = await followedByGet('HEAD /head?cl=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  assert.equal(one.status, 200)
  assert.equal(between.length, 0, `bytes after a HEAD response: ${JSON.stringify(between.toString('latin1'))}`)
})

test('HEAD through fetch: status and headers, empty body', async () => {
  const res = await fetch(`${served.url}/head`, { method: 'HEAD' })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-dup'), '1, 2')
  assert.equal((await res.arrayBuffer()).byteLength, 0)
})

test('204 No Content: no body bytes, the connection stays in sync', async () => {
  const { one, between, two } = await followedByGet('GET /?status=204&cl=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  assert.equal(one.status, 204)
  assert.equal(one.headers['transfer-encoding'], undefined)
  assert.equal(between.length, 0, `body bytes after a 204: ${JSON.stringify(between.toString('latin1'))}`)
  assert.equal(two.status, 200)
  assert.equal(two.body.toString(), 'body')
})

test('304 Not Modified: no body bytes, the connection stays in sync', async () => {
  const { one, between, two } = await followedByGet('GET /?status=304&cl=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  assert.equal(one.status, 304)
  assert.equal(one.headers['transfer-encoding'], undefined)
  assert.equal(between.length, 0, `body bytes after a 304: ${JSON.stringify(between.toString('latin1'))}`)
  assert.equal(two.status, 200)
})

test('304 with the app\'s content-length: no body bytes follow', async () => {
  const { one, between, two } = await followedByGet('GET /?status=304 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  assert.equal(one.status, 304)
  assert.equal(between.length, 0, `body bytes after a 304: ${JSON.stringify(between.toString('latin1'))}`)
  assert.equal(two.status, 200)
})

test('a 200 with the same app does carry its body (control)', async () => {
  const { data } = await rawRequest(served.port, 'GET /?cl=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  assert.equal(decodeChunked(res.body).body.toString(), 'body')
})
