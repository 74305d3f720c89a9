'use strict'
// A request with an Upgrade header that does not ask for a WebSocket (`Upgrade: h2c`) is served as
// plain HTTP, as uvicorn does, although node:http hands it to the 'upgrade' listener (and then
// closes the connection; the native server keeps it HTTP); WebSockets on the same server still work.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger, rawRequest, parseResponse, decodeChunked, native } = require('./helpers')

let handler
let server
let port
let requests = 0 // seen by createServer()'s `listener` wrapper (the CLI's access log; node:http only)

before(async () => {
  handler = new PythonHandler({ app: 'raw_apps:expect_continue', appDir: FIXTURES, logger: captureLogger() })
  await handler.start()
  if (native) {
    server = await handler.listen({ port: 0, host: '127.0.0.1' })
  } else {
    server = handler.createServer({ listener: (inner) => (req, res) => { requests++; inner(req, res) } })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
  }
  port = server.address().port
})

after(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
  await handler.close()
})

const H2C = 'Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n'

/** The response in `data` is complete (Content-Length or chunked framing). */
function complete (data) {
  const res = parseResponse(data)
  if (!res) return false
  if (res.headers['content-length']) return res.body.length >= Number(res.headers['content-length'][0])
  if (res.headers['transfer-encoding']) return decodeChunked(res.body).complete
  return false
}

/**
 * Sends `request` and resolves the parsed response, once the server closed the connection (or,
 * on the native server, which keeps the connection HTTP after a non-WebSocket upgrade request,
 * as uvicorn's h11 does, once the response is complete).
 */
async function exchange (request, options = {}) {
  const { data, ended } = await rawRequest(port, request, { timeoutMs: 5000, ...(native ? { until: complete } : {}), ...options })
  const res = parseResponse(data)
  assert.ok(res, `no response head in ${JSON.stringify(data.toString('latin1'))}`)
  return { res, ended }
}

test('GET with Upgrade: h2c is answered by the app with the normal HTTP scope', async () => {
  const before = requests
  const { res, ended } = await exchange(`GET /no-read?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n${H2C}\r\n`)
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'no body read')
  assert.deepEqual(res.headers['x-upgrade'], ['h2c'], 'the app sees the Upgrade header')
  if (native) {
    assert.equal(res.headers.connection, undefined, 'the connection stays HTTP, kept alive')
  } else {
    assert.deepEqual(res.headers.connection, ['close'])
    assert.equal(ended, true, 'the connection closes after the response')
  }
  if (!native) assert.equal(requests, before + 1, "served through the server's request listener")
})

test('a Content-Length body sent with the head and after it reaches the app', async () => {
  const head = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n${H2C}Content-Length: 11\r\n\r\n`
  const { res } = await exchange([head + 'hello', ' world'], { gapMs: 50 })
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'hello world')
  assert.deepEqual(res.headers['x-upgrade'], ['h2c'])
})

test('a large Content-Length body arrives whole', async () => {
  const body = Buffer.alloc(1 << 20, 'a')
  const head = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n${H2C}Content-Length: ${body.length}\r\n\r\n`
  const { res } = await exchange([Buffer.from(head), body], { timeoutMs: 10000 })
  assert.equal(res.status, 200)
  assert.equal(res.body.length, body.length)
  assert.ok(res.body.equals(body))
})

test('Expect: 100-continue on an h2c upgrade request: the 100 goes out when the app reads', async () => {
  const head = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n${H2C}Expect: 100-continue\r\nContent-Length: 2\r\n\r\n`
  const { data } = await rawRequest(port, head, {
    timeoutMs: 5000,
    onSocket: (socket) => socket.once('data', () => socket.write('ok'))
  })
  const text = data.toString('latin1')
  assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/)
  assert.ok(text.endsWith('\r\n\r\nok'))
})

test('a chunked body on a non-WebSocket upgrade: 501 on node:http (which cannot decode it there), decoded on the native server (as uvicorn)', async () => {
  const head = `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n${H2C}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`
  const { res, ended } = await exchange(head)
  if (native) {
    assert.equal(res.status, 200)
    const body = res.headers['transfer-encoding'] ? decodeChunked(res.body).body : res.body
    assert.equal(body.toString(), 'hello')
  } else {
    assert.equal(res.status, 501)
    assert.equal(ended, true)
  }
})

test('a WebSocket upgrade still works on the same server', async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat`)
  const [message] = await once(ws, 'message')
  assert.equal(message.toString(), 'ws:/chat')
  const [code] = await once(ws, 'close')
  assert.equal(code, 1000)
})

test('Upgrade naming websocket among other protocols takes the WebSocket path (400 when invalid)', async () => {
  const { res } = await exchange('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: h2c, WebSocket\r\nConnection: Upgrade\r\n\r\n')
  assert.equal(res.status, 400)
})

test('the server keeps serving plain requests afterwards', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/no-read`)
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'no body read')
})
