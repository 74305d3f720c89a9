'use strict'
// The native server's HTTP/1.1 connection handling: pipelined requests answered in order,
// keep-alive reuse, HTTP/1.0 framing, bodiless responses, chunked bodies both ways, Date and
// Server headers, Expect: 100-continue, header and keep-alive timeouts, client aborts, a
// non-WebSocket Upgrade served as HTTP, and graceful close. Raw sockets and fetch.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const net = require('node:net')
const { rawRequest, parseResponse, decodeChunked, sleep, waitFor } = require('./helpers')
const { startNative, startNativeChild, splitResponses, openCollector } = require('./native_support')

const H = 'Host: x\r\n'

test('100 pipelined requests in one write are answered in order', async (t) => {
  const s = await startNative('raw_apps:echo')
  t.after(() => s.close())
  let bytes = ''
  for (let i = 0; i < 100; i++) {
    const body = `body-${i}`
    bytes += i % 2 === 0
      ? `GET /p/${i} HTTP/1.1\r\n${H}\r\n`
      : `POST /p/${i} HTTP/1.1\r\n${H}Content-Length: ${body.length}\r\n\r\n${body}`
  }
  const c = await openCollector(s.port)
  c.socket.write(bytes)
  const done = await c.until((d) => splitResponses(d, { closed: false }).responses.length >= 100, 15000)
  const { responses, rest, error } = splitResponses(c.data(), { closed: false })
  assert.equal(error, null)
  assert.ok(done, `100 responses (got ${responses.length})`)
  assert.equal(rest.length, 0)
  responses.forEach((res, i) => {
    assert.equal(res.status, 200)
    assert.deepEqual(res.headers['x-path'], [`/p/${i}`], `response ${i} answers request ${i}`)
    assert.equal(res.body.toString(), i % 2 === 0 ? '' : `body-${i}`)
  })
  assert.equal(c.isClosed(), false, 'the connection stays open')
  c.socket.destroy()
})

test('keep-alive: sequential requests reuse one connection (raw socket and node:http agent)', async (t) => {
  const s = await startNative('raw_apps:echo')
  t.after(() => s.close())
  const c = await openCollector(s.port)
  for (let i = 0; i < 5; i++) {
    const before = c.data().length
    c.socket.write(`GET /k/${i} HTTP/1.1\r\n${H}\r\n`)
    assert.ok(await c.until((d) => splitResponses(d.subarray(before), { closed: false }).responses.length === 1))
    const res = splitResponses(c.data().subarray(before), { closed: false }).responses[0]
    assert.deepEqual(res.headers['x-path'], [`/k/${i}`])
    assert.equal(res.headers.connection, undefined, 'no connection: close')
  }
  assert.equal(c.isClosed(), false)
  c.socket.destroy()

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.after(() => agent.destroy())
  const ports = new Set()
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: s.port, path: `/a/${i}`, agent }, (res) => {
        ports.add(res.socket.localPort)
        assert.equal(res.statusCode, 200)
        res.resume().on('end', resolve)
      }).on('error', reject)
    })
  }
  assert.equal(ports.size, 1, 'one socket served all five')
})

test('HTTP/1.0: close-delimited body without content-length, then close; keep-alive only when asked', async (t) => {
  const s = await startNative('raw_apps:streaming')
  t.after(() => s.close())
  const r = await rawRequest(s.port, 'GET /?chunks=3&size=4 HTTP/1.0\r\n\r\n')
  const res = parseResponse(r.data)
  assert.match(res.statusLine, /^HTTP\/1\.[01] 200 /)
  assert.equal(res.headers['transfer-encoding'], undefined, 'no chunked encoding for HTTP/1.0')
  assert.equal(res.headers['content-length'], undefined)
  assert.equal(res.body.toString(), 'xxx0xxx1xxx2', 'the body runs to the close')
  assert.ok(r.ended, 'the server closed the connection')

  const hello = await startNative('raw_apps:hello')
  t.after(() => hello.close())
  const plain = await rawRequest(hello.port, 'GET / HTTP/1.0\r\n\r\n')
  assert.equal(parseResponse(plain.data).status, 200)
  assert.ok(plain.ended, 'HTTP/1.0 without keep-alive: closed after the response')

  const c = await openCollector(hello.port)
  c.socket.write('GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')
  assert.ok(await c.until((d) => splitResponses(d, { closed: false }).responses.length === 1))
  const first = splitResponses(c.data(), { closed: false }).responses[0]
  assert.equal(first.status, 200)
  assert.deepEqual(first.headers.connection?.map((v) => v.toLowerCase()), ['keep-alive'], 'keep-alive is confirmed')
  await sleep(100)
  assert.equal(c.isClosed(), false, 'kept open')
  c.socket.write('GET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n')
  assert.ok(await c.until((d) => splitResponses(d, { closed: false }).responses.length === 2), 'a second request on it is served')
  c.socket.write('GET /3 HTTP/1.0\r\n\r\n')
  await c.ended
  assert.equal(splitResponses(c.data()).responses.length, 3, 'the last one, without keep-alive, closes it')
})

test('HEAD, 204 and 304 responses have no body; the connection stays usable', async (t) => {
  const s = await startNative('raw_apps:headers_app')
  t.after(() => s.close())
  const c = await openCollector(s.port)
  const methods = ['HEAD', 'GET', 'GET', 'HEAD', 'GET']
  c.socket.write(`HEAD / HTTP/1.1\r\n${H}\r\nGET /?status=204 HTTP/1.1\r\n${H}\r\nGET /?status=304 HTTP/1.1\r\n${H}\r\n` +
    `HEAD /?cl=0 HTTP/1.1\r\n${H}\r\nGET /?status=200 HTTP/1.1\r\n${H}\r\n`)
  assert.ok(await c.until((d) => splitResponses(d, { requestMethods: methods, closed: false }).responses.length === 5))
  const { responses, rest, error } = splitResponses(c.data(), { requestMethods: methods, closed: false })
  assert.equal(error, null)
  assert.equal(rest.length, 0, 'no stray body bytes')
  assert.deepEqual(responses.map((r) => r.status), [200, 204, 304, 200, 200])
  assert.deepEqual(responses[0].headers['content-length'], ['4'], 'HEAD keeps the content-length')
  for (const r of responses.slice(1, 3)) {
    assert.equal(r.headers['transfer-encoding'], undefined)
    assert.equal(r.body.length, 0)
  }
  assert.equal(responses[4].body.toString(), 'body')
  c.socket.destroy()
})

test('chunked request bodies reach the app; responses without content-length are chunked', async (t) => {
  const s = await startNative('raw_apps:echo')
  t.after(() => s.close())
  const r = await rawRequest(s.port, `POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
    '5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n\r\n')
  const res = parseResponse(r.data)
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'hello, world')

  const streaming = await startNative('raw_apps:streaming')
  t.after(() => streaming.close())
  const sr = await rawRequest(streaming.port, `GET /?chunks=4&size=5 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)
  const sres = parseResponse(sr.data)
  assert.deepEqual(sres.headers['transfer-encoding'], ['chunked'])
  const decoded = decodeChunked(sres.body)
  assert.ok(decoded.complete)
  assert.equal(decoded.body.toString(), 'xxxx0xxxx1xxxx2xxxx3')
  assert.equal(decoded.rest.length, 0)

  // fetch: a streamed (chunked) upload and a chunked download
  const up = await fetch(`${s.url}/f`, {
    method: 'POST',
    duplex: 'half',
    body: new ReadableStream({ start (c) { c.enqueue(Buffer.from('ab')); c.enqueue(Buffer.from('cd')); c.close() } })
  })
  assert.equal(await up.text(), 'abcd')
  assert.equal(await (await fetch(`${streaming.url}/?chunks=2&size=3`)).text(), 'xx0xx1')
})

// In a child process: the server once crashed (SIGSEGV) on trailer fields.
test('a chunked request body with trailer fields is served (trailers dropped)', async (t) => {
  const child = await startNativeChild('raw_apps:echo')
  t.after(() => child.close())
  const r = await rawRequest(child.port, `POST /t HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
    '5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n', { timeoutMs: 5000 })
  await sleep(200)
  assert.ok(child.child.exitCode === null && child.child.signalCode === null, `the server process is alive (exit ${child.child.exitCode}, signal ${child.child.signalCode})`)
  const res = parseResponse(r.data)
  assert.equal(res?.status, 200)
  assert.equal(res.body.toString(), 'hello')
})

const DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/

test('Date is present and well-formed; server: node-asgi by default', async (t) => {
  const s = await startNative('raw_apps:hello')
  t.after(() => s.close())
  const res = parseResponse((await rawRequest(s.port, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).data)
  assert.equal(res.headers.date.length, 1)
  assert.match(res.headers.date[0], DATE)
  assert.ok(Math.abs(Date.parse(res.headers.date[0]) - Date.now()) < 60000, 'the current time')
  assert.deepEqual(res.headers.server, ['node-asgi'])
  // refusals carry them too
  const bad = parseResponse((await rawRequest(s.port, 'BAD\r\n\r\n')).data)
  assert.match(bad.headers.date[0], DATE)
  assert.deepEqual(bad.headers.server, ['node-asgi'])
})

test("serverHeader: 'x' and false, dateHeader: false", async (t) => {
  const x = await startNative('raw_apps:hello', {}, { serverHeader: 'x' })
  t.after(() => x.close())
  const none = await startNative('raw_apps:hello', {}, { serverHeader: false, dateHeader: false })
  t.after(() => none.close())
  const rx = await fetch(x.url)
  assert.equal(rx.headers.get('server'), 'x')
  assert.ok(rx.headers.get('date'))
  const rn = parseResponse((await rawRequest(none.port, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).data)
  assert.equal(rn.status, 200)
  assert.equal(rn.headers.server, undefined)
  assert.equal(rn.headers.date, undefined)
})

test("the app's own server header wins over the default", async (t) => {
  const s = await startNative('native_apps:own_server_header')
  t.after(() => s.close())
  const res = parseResponse((await rawRequest(s.port, `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).data)
  assert.deepEqual(res.headers.server, ['my-app'], 'one server header, the app\'s')
  assert.equal(res.body.toString(), 'mine')
})

test('Expect: 100-continue is answered when the app reads, before the echo; never when it answers without reading', async (t) => {
  const s = await startNative('raw_apps:expect_continue')
  t.after(() => s.close())
  const c = await openCollector(s.port)
  c.socket.write(`POST /echo HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n`)
  assert.ok(await c.until((d) => d.includes('\r\n\r\n')), 'an interim response arrives before the body is sent')
  assert.match(c.data().toString('latin1'), /^HTTP\/1\.1 100 Continue\r\n\r\n$/)
  c.socket.write('hello')
  assert.ok(await c.until((d) => splitResponses(d, { closed: false }).responses.length === 2))
  const [cont, res] = splitResponses(c.data(), { closed: false }).responses
  assert.equal(cont.status, 100)
  assert.equal(res.status, 200)
  assert.equal(res.body.toString(), 'hello')
  c.socket.destroy()

  const n = await openCollector(s.port)
  n.socket.write(`POST /no-read HTTP/1.1\r\n${H}Content-Length: 5\r\nExpect: 100-continue\r\n\r\n`)
  assert.ok(await n.until((d) => splitResponses(d, { closed: false }).responses.length >= 1))
  const first = splitResponses(n.data(), { closed: false }).responses[0]
  assert.equal(first.status, 200, 'no 100 Continue')
  assert.equal(first.body.toString(), 'no body read')
  assert.doesNotMatch(n.data().toString('latin1'), /100 Continue/)
  n.socket.destroy()
})

test('timeoutHeaders: half a head → 408 and close; no bytes at all → closed', async (t) => {
  const s = await startNative('raw_apps:hello', {}, { timeoutHeaders: 0.5, timeoutKeepAlive: 10 })
  t.after(() => s.close())
  const half = await rawRequest(s.port, `GET / HTTP/1.1\r\n${H}X-Partial: `, { timeoutMs: 10000 })
  assert.ok(half.ended, 'closed by the server')
  assert.equal(parseResponse(half.data)?.status, 408)
  const silent = await rawRequest(s.port, Buffer.alloc(0), { timeoutMs: 10000 })
  assert.ok(silent.ended, 'closed by the server')
  assert.ok(silent.data.length === 0 || parseResponse(silent.data)?.status === 408)
  assert.equal((await fetch(s.url)).status, 200)
})

test('timeoutKeepAlive: an idle keep-alive connection is closed', async (t) => {
  const s = await startNative('raw_apps:hello', {}, { timeoutKeepAlive: 0.5 })
  t.after(() => s.close())
  const r = await rawRequest(s.port, `GET / HTTP/1.1\r\n${H}\r\n`, { timeoutMs: 10000 })
  assert.ok(r.ended, 'closed by the server after idling')
  const { responses, rest } = splitResponses(r.data)
  assert.equal(responses.length, 1, 'one response and nothing else (no 408 on an idle connection)')
  assert.equal(rest.length, 0)
  assert.equal(responses[0].status, 200)
})

test('client abort during a long poll: the app sees http.disconnect', async (t) => {
  const s = await startNative('raw_apps:disconnect_watcher')
  t.after(() => s.close())
  const c = await openCollector(s.port)
  c.socket.write(`GET /aborted-native HTTP/1.1\r\n${H}\r\n`)
  await waitFor(() => s.server.inFlight >= 1, { message: 'the request in flight' })
  c.socket.destroy()
  const seen = await waitFor(async () => {
    const list = await (await fetch(`${s.url}/disconnects`)).json()
    return list.includes('/aborted-native') && list
  }, { message: 'http.disconnect' })
  assert.ok(seen.includes('/aborted-native'))
  await waitFor(() => s.server.inFlight === 0, { message: 'the request to end' })

  const lp = await startNative('raw_apps:long_poll')
  t.after(() => lp.close())
  const l = await openCollector(lp.port)
  l.socket.write(`GET /?seconds=0.5 HTTP/1.1\r\n${H}\r\n`)
  await waitFor(() => lp.server.inFlight >= 1)
  l.socket.destroy()
  await waitFor(() => lp.server.inFlight === 0, { message: 'the long poll to end after its client left' })
  assert.equal((await fetch(`${lp.url}/?seconds=0`)).status, 200)
})

test('Upgrade: h2c (not a WebSocket) is served as plain HTTP and the connection stays HTTP', async (t) => {
  const s = await startNative('raw_apps:expect_continue')
  t.after(() => s.close())
  const c = await openCollector(s.port)
  c.socket.write(`GET /h2c HTTP/1.1\r\n${H}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n`)
  assert.ok(await c.until((d) => splitResponses(d, { closed: false }).responses.length === 1))
  const res = splitResponses(c.data(), { closed: false }).responses[0]
  assert.equal(res.status, 200, 'not 101')
  assert.deepEqual(res.headers['x-upgrade'], ['h2c'], 'the app saw the Upgrade header')
  c.socket.write(`POST /echo HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nok`)
  assert.ok(await c.until((d) => splitResponses(d, { closed: false }).responses.length === 2), 'a second request on the same connection is served')
  assert.equal(splitResponses(c.data(), { closed: false }).responses[1].body.toString(), 'ok')
  c.socket.destroy()
})

test('graceful close: the request in flight finishes, idle connections close at once, new connections are refused', async (t) => {
  const s = await startNative('raw_apps:long_poll')
  t.after(() => s.close())
  const idle = await openCollector(s.port)
  idle.socket.write(`GET /?seconds=0 HTTP/1.1\r\n${H}\r\n`)
  assert.ok(await idle.until((d) => splitResponses(d, { closed: false }).responses.length === 1))
  const busy = await openCollector(s.port)
  busy.socket.write(`GET /?seconds=1 HTTP/1.1\r\n${H}\r\n`)
  await waitFor(() => s.server.inFlight === 1, { message: 'the long poll in flight' })
  let closed = false
  const closing = s.server.close().then(() => { closed = true })
  await idle.ended
  assert.equal(busy.isClosed(), false, 'the idle connection closed while the request was still in flight')
  assert.equal(closed, false)
  await assert.rejects(new Promise((resolve, reject) => {
    const sock = net.connect({ port: s.port, host: '127.0.0.1' }, () => { sock.destroy(); resolve() })
    sock.on('error', reject)
  }), { code: 'ECONNREFUSED' }, 'new connections are refused')
  await busy.ended
  const { responses, rest, error } = splitResponses(busy.data())
  assert.equal(error, null)
  assert.equal(rest.length, 0)
  assert.equal(responses.length, 1)
  assert.equal(responses[0].status, 200)
  assert.equal(responses[0].body.toString(), 'done', 'the in-flight response completed')
  await closing
  assert.ok(closed)
  assert.equal(s.server.connections, 0)
})
