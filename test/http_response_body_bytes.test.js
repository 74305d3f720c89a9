'use strict'
// Response bodies reach the client byte for byte whatever their size and content: small chunks
// (which cross from the addon as latin-1 strings), chunks at and around the 4 KiB switch to
// Buffers, with a content-length, chunked, and in-process.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler } = require('..')
const { FIXTURES, startServer, rawRequest, parseResponse, decodeChunked, captureLogger } = require('./helpers')

let echo
let streaming
let download

before(async () => {
  echo = await startServer('raw_apps:echo')
  streaming = await startServer('raw_apps:streaming')
  download = await startServer('raw_apps:download')
})

after(async () => {
  await Promise.all([echo?.close(), streaming?.close(), download?.close()])
})

const pattern = (size, start = 0) => Buffer.from(Array.from({ length: size }, (_, j) => (start + j) % 256))

test('bodies of every size around 4 KiB, holding every byte value, are echoed exactly', async () => {
  for (const size of [1, 127, 128, 255, 256, 1000, 4095, 4096, 4097, 9000]) {
    const body = pattern(size, 0x80) // starts with bytes that are not ASCII
    const res = await fetch(`${echo.url}/bytes`, { method: 'POST', body })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-length'), String(size))
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(body), `body of ${size} bytes differs`)
  }
})

test('small binary chunks of a chunked response arrive exactly, with correct chunk sizes', async () => {
  const { data, ended } = await rawRequest(streaming.port,
    'GET /?chunks=5&size=300&binary=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
  assert.ok(ended)
  const res = parseResponse(data)
  assert.deepEqual(res.headers['transfer-encoding'], ['chunked'])
  const decoded = decodeChunked(res.body)
  assert.ok(decoded.complete)
  assert.deepEqual(decoded.chunks.map((c) => c.length), [300, 300, 300, 300, 300])
  assert.ok(decoded.body.equals(pattern(1500)))
})

test('a content-length response written in small binary chunks arrives exactly', async () => {
  const res = await fetch(`${download.url}/?mb=0.05&chunk=333`)
  assert.equal(res.status, 200)
  const body = Buffer.from(await res.arrayBuffer())
  assert.equal(body.length, Math.floor(0.05 * 1024 * 1024))
  assert.ok(body.equals(pattern(body.length)))
})

test('handleRequest() returns small binary bodies as exact Buffers', async () => {
  const handler = new PythonHandler({ app: 'raw_apps:echo', appDir: FIXTURES, logger: captureLogger() })
  try {
    for (const size of [1, 256, 4095, 4096]) {
      const body = pattern(size, 0xf0)
      const res = await handler.handleRequest({ method: 'POST', url: '/', body })
      assert.ok(Buffer.isBuffer(res.body))
      assert.ok(res.body.equals(body), `body of ${size} bytes differs`)
    }
  } finally {
    await handler.close()
  }
})
