'use strict'
// Expect: 100-continue as uvicorn answers it: `100 Continue` goes out when the app first calls
// receive(), never when the app answers without reading the body or after its response started.
// Raw sockets, so that the interim response is observable byte for byte.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const net = require('node:net')
const { once } = require('node:events')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger, parseResponse, decodeChunked, native } = require('./helpers')

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n'

let handler
let server // handler.createServer(), or handler.listen() on the native path
let plain // http.createServer(listener) with the listener also on 'checkContinue' (node:http only)

before(async () => {
  handler = new PythonHandler({ app: 'raw_apps:expect_continue', appDir: FIXTURES, logger: captureLogger() })
  await handler.start()
  if (native) {
    server = await handler.listen({ port: 0, host: '127.0.0.1' })
    return
  }
  server = handler.createServer()
  plain = http.createServer(handler.listener())
  plain.on('checkContinue', handler.listener())
  for (const s of [server, plain]) {
    s.listen(0, '127.0.0.1')
    await once(s, 'listening')
  }
})

after(async () => {
  for (const s of [server, plain]) {
    if (!s) continue
    s.closeAllConnections()
    await new Promise((resolve) => s.close(resolve))
  }
  await handler.close()
})

/** A raw connection: `write()`, `waitFor(predicate on all bytes so far)`, `data()`, `ended`. */
async function connect (port) {
  const socket = net.connect({ port, host: '127.0.0.1' })
  await once(socket, 'connect')
  let data = Buffer.alloc(0)
  const conn = { ended: false, socket }
  let waiter = null
  const check = () => { if (waiter && (waiter.until(data) || conn.ended)) waiter.resolve(data) }
  socket.on('data', (chunk) => { data = Buffer.concat([data, chunk]); check() })
  socket.on('end', () => { conn.ended = true; check() })
  socket.on('error', () => {})
  conn.write = (bytes) => socket.write(bytes)
  conn.data = () => data
  conn.waitFor = (until, timeoutMs = 5000) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(data.toString('latin1'))}`)), timeoutMs)
    waiter = { until, resolve: (d) => { clearTimeout(timer); waiter = null; resolve(d) } }
    check()
  })
  conn.close = () => socket.destroy()
  return conn
}

const head = (path, { expect = true, length = 5 } = {}) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${expect ? 'Expect: 100-continue\r\n' : ''}Content-Length: ${length}\r\n\r\n`

/** The final response after any 100 Continue, once its body (content-length or chunked) is complete. */
function finalResponse (data) {
  let text = data
  while (text.subarray(0, CONTINUE.length).toString('latin1') === CONTINUE) text = text.subarray(CONTINUE.length)
  const res = parseResponse(text)
  if (res === null) return null
  if (res.headers['content-length']) return res.body.length >= Number(res.headers['content-length'][0]) ? res : null
  if (res.headers['transfer-encoding']) {
    try {
      const decoded = decodeChunked(res.body)
      return decoded.complete ? { ...res, body: decoded.body } : null
    } catch {
      return null
    }
  }
  return res
}

const servers = native
  ? [['handler.listen()', () => server.address().port]]
  : [['createServer()', () => server.address().port], ['a checkContinue listener', () => plain.address().port]]
for (const [name, port] of servers) {
  test(`${name}: 100 Continue is sent when the app reads the body, and only then does the client send it`, async () => {
    const conn = await connect(port())
    try {
      conn.write(head('/echo'))
      const data = await conn.waitFor((d) => d.length >= CONTINUE.length)
      assert.equal(data.toString('latin1'), CONTINUE)
      conn.write('hello')
      const res = finalResponse(await conn.waitFor((d) => finalResponse(d) !== null))
      assert.equal(res.status, 200)
      assert.equal(res.body.toString(), 'hello')
      assert.equal(conn.data().toString('latin1').split('100 Continue').length, 2, 'exactly one 100')
    } finally {
      conn.close()
    }
  })

  test(`${name}: an app that answers without reading the body sends no 100 Continue`, async () => {
    const conn = await connect(port())
    try {
      conn.write(head('/no-read'))
      const data = await conn.waitFor((d) => finalResponse(d) !== null)
      assert.match(data.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/)
      assert.doesNotMatch(data.toString('latin1'), /100 Continue/)
      const res = finalResponse(data)
      assert.equal(res.body.toString(), 'no body read')
      // The body never came: the connection cannot be reused and is closed.
      assert.deepEqual(res.headers.connection, ['close'])
      await conn.waitFor(() => false).catch(() => {}) // until the server closes
      assert.equal(conn.ended, true)
    } finally {
      conn.close()
    }
  })
}

test('no 100 Continue once the response started, though the app reads the body afterwards', async () => {
  const conn = await connect(server.address().port)
  try {
    conn.write(head('/read-late'))
    const data = await conn.waitFor((d) => d.includes('\r\n\r\n'))
    assert.match(data.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/)
    conn.write('later') // the client gave up waiting for the 100 and sends the body
    const res = finalResponse(await conn.waitFor((d) => finalResponse(d) !== null))
    assert.equal(res.body.toString(), 'later')
    assert.doesNotMatch(conn.data().toString('latin1'), /100 Continue/)
  } finally {
    conn.close()
  }
})

test('without an Expect header no 100 Continue is sent, and the connection is kept alive', async () => {
  const conn = await connect(server.address().port)
  try {
    conn.write(head('/echo', { expect: false }) + 'hello')
    const res = finalResponse(await conn.waitFor((d) => finalResponse(d) !== null))
    assert.match(res.statusLine, /^HTTP\/1\.1 200/)
    assert.equal(res.body.toString(), 'hello')
    assert.doesNotMatch(conn.data().toString('latin1'), /100 Continue/)
    assert.notDeepEqual(res.headers.connection, ['close'])
  } finally {
    conn.close()
  }
})

test('after a 100 Continue and the body, the connection serves the next request', async () => {
  const conn = await connect(server.address().port)
  try {
    conn.write(head('/echo'))
    await conn.waitFor((d) => d.length >= CONTINUE.length)
    conn.write('first')
    await conn.waitFor((d) => finalResponse(d) !== null)
    const before = conn.data().length
    conn.write(head('/echo', { expect: false, length: 6 }) + 'second')
    const second = await conn.waitFor((d) => d.length > before && finalResponse(d.subarray(before)) !== null)
    assert.equal(finalResponse(second.subarray(before)).body.toString(), 'second')
  } finally {
    conn.close()
  }
})
