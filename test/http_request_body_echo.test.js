'use strict'
// Request bodies reach the app intact: small, empty, binary, Content-Length framed and
// chunked transfer-encoding uploads, streamed or in one piece.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Readable } = require('node:stream')
const { request } = require('undici')
const { startServer, rawRequest, parseResponse, sleep } = require('./helpers')

let served

before(async () => {
  served = await startServer('raw_apps:echo')
})

after(async () => {
  await served?.close()
})

test('a small body is echoed back byte for byte', async () => {
  const res = await fetch(`${served.url}/echo`, { method: 'POST', body: 'hello, body' })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-method'), 'POST')
  assert.equal(await res.text(), 'hello, body')
})

test('an empty POST body gives an empty echo with content-length 0', async () => {
  const res = await fetch(`${served.url}/empty`, { method: 'POST', body: '' })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('content-length'), '0')
  assert.equal((await res.arrayBuffer()).byteLength, 0)
})

test('a GET without a body gives an empty echo', async () => {
  const res = await fetch(`${served.url}/get`)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('x-method'), 'GET')
  assert.equal((await res.arrayBuffer()).byteLength, 0)
})

test('every byte value survives the round trip (binary body)', async () => {
  const body = Buffer.alloc(256 * 40)
  for (let i = 0; i < body.length; i++) body[i] = i % 256
  const res = await fetch(`${served.url}/binary`, { method: 'PUT', body })
  assert.equal(res.status, 200)
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(body))
})

test('a body larger than requestHighWater (1 MiB) is echoed whole', async () => {
  const body = Buffer.alloc(1024 * 1024)
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 251
  const res = await fetch(`${served.url}/big`, { method: 'POST', body })
  assert.equal(res.status, 200)
  assert.ok(Buffer.from(await res.arrayBuffer()).equals(body))
})

test('a chunked transfer-encoding upload (raw framing, chunks sent apart) is echoed', async () => {
  const parts = [
    'POST /chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
    '5\r\nhello\r\n',
    '1\r\n,\r\n',
    '6\r\n world\r\n',
    '0\r\n\r\n'
  ]
  const { data, ended } = await rawRequest(served.port, parts, { gapMs: 30 })
  assert.ok(ended, 'the server did not close the connection after Connection: close')
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  assert.equal(res.headers['content-length'][0], '12')
  assert.equal(res.body.toString(), 'hello, world')
})

test('a streamed request body from a Readable (chunked) is echoed', async () => {
  const pieces = Array.from({ length: 20 }, (_, i) => `piece-${i};`)
  async function * generate () {
    for (const piece of pieces) {
      yield Buffer.from(piece)
      await sleep(5)
    }
  }
  const { statusCode, body } = await request(`${served.url}/stream`, { method: 'POST', body: Readable.from(generate()) })
  assert.equal(statusCode, 200)
  assert.equal(await body.text(), pieces.join(''))
})

test('an empty chunked upload is echoed as an empty body', async () => {
  const { data } = await rawRequest(served.port,
    'POST /empty-chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n')
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  assert.equal(res.headers['content-length'][0], '0')
  assert.equal(res.body.length, 0)
})

test('two requests with bodies on one keep-alive connection each get their own echo', async () => {
  const { data } = await rawRequest(served.port, [
    'POST /one HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc',
    'POST /two HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nConnection: close\r\n\r\nwxyz'
  ], { gapMs: 50 })
  const first = parseResponse(data)
  assert.equal(first.status, 200)
  assert.equal(first.body.subarray(0, 3).toString(), 'abc')
  const second = parseResponse(first.body.subarray(3))
  assert.equal(second.status, 200)
  assert.equal(second.headers['x-path'][0], '/two')
  assert.equal(second.body.toString(), 'wxyz')
})
