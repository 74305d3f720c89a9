'use strict'
// openInProcessWebSocket(): a WebSocket session with the app without sockets — handshake (accept
// with subprotocol and headers, 403 for a close before accept, denial responses, 500 for a failure),
// messages both ways, close codes both ways, backpressure both ways, abort, handler close (1012),
// and TypeErrors naming the option.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { PythonHandler } = require('..')
const { openInProcessWebSocket, WebSocketDeniedError } = require('../lib/inprocess_websocket')
const { FIXTURES, captureLogger, waitFor } = require('./helpers')

const handlers = {}

function handlerFor (app, options = {}) {
  handlers[app] ??= new PythonHandler({ app, appDir: FIXTURES, logger: captureLogger(), timeoutGracefulShutdown: 10, ...options })
  return handlers[app]
}

async function events (handler, id) {
  const res = await handler.handleRequest({ url: `/events?id=${id}` })
  return JSON.parse(res.body.toString())
}

before(async () => {
  for (const app of ['ws_echo:app', 'ws_handshake:app', 'ws_scope:app', 'ws_starlette_app:app']) await handlerFor(app).start()
  await handlerFor('ws_flow:app', { wsMaxQueue: 4 }).start()
})

after(async () => {
  // A session left pending would hold close() until the graceful-shutdown timeout (10 s)
  const began = Date.now()
  await Promise.all(Object.values(handlers).map((h) => h.close()))
  assert.ok(Date.now() - began < 5000, `close() took ${Date.now() - began} ms: a WebSocket session was left pending`)
})

test('echo: text comes back as text, bytes as bytes; the client close reaches the app with its code and reason', async () => {
  const handler = handlerFor('ws_echo:app')
  const ws = await openInProcessWebSocket(handler, { path: '/', query: { id: 'echo1' } })
  assert.equal(ws.subprotocol, null)
  await ws.send('héllo')
  assert.deepEqual(await ws.receive(), { type: 'text', data: 'héllo' })
  await ws.send(Buffer.from([0, 1, 2, 255]))
  const binary = await ws.receive()
  assert.equal(binary.type, 'binary')
  assert.deepEqual([...binary.data], [0, 1, 2, 255])
  await ws.send(new Uint8Array([7, 8]).buffer)
  assert.deepEqual([...(await ws.receive()).data], [7, 8])
  ws.close(4001, 'bye now')
  assert.deepEqual(await ws.receive(), { type: 'close', code: 4001, reason: 'bye now' })
  assert.deepEqual(await ws.receive(), { type: 'close', code: 4001, reason: 'bye now' }, 'the close again, on every call')
  await ws.finished
  assert.deepEqual(await events(handler, 'echo1'), [{ event: 'disconnect', code: 4001, reason: 'bye now' }])
  await assert.rejects(ws.send('late'), { code: 'ERR_WEBSOCKET_CLOSED' })
})

test('the scope: path, query, headers as a client sends them, subprotocols, client, server, root_path, state', async () => {
  const ws = await openInProcessWebSocket(handlerFor('ws_scope:app'), {
    path: '/chat/caf%C3%A9?x=1',
    query: 'y=2',
    headers: { cookie: 'session=abc', 'X-Dup': ['a', 'b'] },
    subprotocols: ['v1', 'v2'],
    client: ['10.0.0.1', 5555],
    server: ['example.test', 8080],
    scheme: 'wss',
    rootPath: '/api'
  })
  assert.equal(ws.subprotocol, 'v1')
  const { scope } = JSON.parse((await ws.receive()).data)
  assert.equal(scope.type, 'websocket')
  assert.equal(scope.scheme, 'wss')
  assert.equal(scope.path, '/api/chat/café')
  assert.equal(scope.raw_path, '/api/chat/caf%C3%A9')
  assert.equal(scope.query_string, 'x=1&y=2')
  assert.equal(scope.root_path, '/api')
  assert.deepEqual(scope.client, ['10.0.0.1', 5555])
  assert.deepEqual(scope.server, ['example.test', 8080])
  assert.deepEqual(scope.subprotocols, ['v1', 'v2'])
  assert.equal(scope.state.greeting, 'hello from lifespan')
  const headers = scope.headers
  const get = (name) => headers.filter(([n]) => n === name).map(([, v]) => v)
  assert.deepEqual(get('host'), ['example.test:8080'])
  assert.deepEqual(get('cookie'), ['session=abc'])
  assert.deepEqual(get('x-dup'), ['a', 'b'])
  assert.deepEqual(get('upgrade'), ['websocket'])
  assert.deepEqual(get('sec-websocket-version'), ['13'])
  assert.match(get('sec-websocket-key')[0], /^[+/0-9A-Za-z]{22}==$/)
  assert.deepEqual(get('sec-websocket-protocol'), ['v1, v2'])
  ws.close()
  await ws.finished
})

test('accept with a chosen subprotocol and extra headers (repeated set-cookie kept)', async () => {
  const ws = await openInProcessWebSocket(handlerFor('ws_handshake:app'), { path: '/accept', query: { pick: '1', id: 'acc' }, subprotocols: ['a', 'b'] })
  assert.equal(ws.subprotocol, 'b')
  assert.equal(ws.headers['x-extra'], 'yes')
  assert.equal(ws.headers['x-app-offered'], 'a,b')
  assert.deepEqual(ws.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'])
  assert.deepEqual(ws.rawHeaders.slice(0, 2), ['x-extra', 'yes'])
  ws.close()
  await ws.finished
})

test('a close before accept rejects with WebSocketDeniedError 403 carrying the close code', async () => {
  const err = await openInProcessWebSocket(handlerFor('ws_handshake:app'), { path: '/close-before-accept' }).catch((e) => e)
  assert.ok(err instanceof WebSocketDeniedError, String(err))
  assert.equal(err.status, 403)
  assert.equal(err.closeCode, 1008)
  assert.equal(err.body.toString(), 'Forbidden')
})

test('a denial response rejects with its status, headers and streamed body', async () => {
  const err = await openInProcessWebSocket(handlerFor('ws_handshake:app'), { path: '/deny' }).catch((e) => e)
  assert.ok(err instanceof WebSocketDeniedError, String(err))
  assert.equal(err.status, 401)
  assert.equal(err.headers['x-denied'], 'yes')
  assert.equal(err.headers['www-authenticate'], 'Bearer realm="ws"')
  assert.equal(err.body.toString(), 'no token, no socket')
  assert.equal(err.closeCode, null)
  assert.match(err.message, /401 Unauthorized/)
})

test('an exception before accept gives a 500 denial; after accept the client sees close 1011', async () => {
  const handler = handlerFor('ws_handshake:app')
  const err = await openInProcessWebSocket(handler, { path: '/raise-before-accept' }).catch((e) => e)
  assert.ok(err instanceof WebSocketDeniedError, String(err))
  assert.equal(err.status, 500)
  const ws = await openInProcessWebSocket(handler, { path: '/raise-after-accept' })
  assert.deepEqual(await ws.receive(), { type: 'text', data: 'about to fail' })
  assert.deepEqual(await ws.receive(), { type: 'close', code: 1011, reason: '' })
  await ws.finished
})

test('the app closing: the client receives its code and reason, the iterator ends', async () => {
  const ws = await openInProcessWebSocket(handlerFor('ws_starlette_app:app'), { path: '/ws/rooms/lobby', client: ['127.0.0.1', 4000], subprotocols: ['v2'] })
  assert.equal(ws.subprotocol, 'v2')
  const seen = []
  for await (const message of ws) seen.push(message)
  assert.equal(seen.length, 1)
  const info = JSON.parse(seen[0].data)
  assert.equal(info.room, 'lobby')
  assert.equal(info.client_host, '127.0.0.1')
  assert.deepEqual(await ws.receive(), { type: 'close', code: 4001, reason: '' })
  assert.equal(ws.closed, true)
  await ws.finished
})

test('Starlette endpoints: text and bytes round trips, disconnect code recorded', async () => {
  const handler = handlerFor('ws_starlette_app:app')
  const ws = await openInProcessWebSocket(handler, { path: '/ws/text', query: { id: 'st1' } })
  await ws.send('hi')
  assert.deepEqual(await ws.receive(), { type: 'text', data: 'echo: hi' })
  ws.close(1001)
  await ws.finished
  const res = await handler.handleRequest({ url: '/events?id=st1' })
  assert.deepEqual(JSON.parse(res.body.toString()), [{ where: 'echo_text', code: 1001 }])
})

test('inbound backpressure: send() waits while the app does not receive (wsMaxQueue 4), then everything arrives in order', async () => {
  const handler = handlerFor('ws_flow:app')
  const ws = await openInProcessWebSocket(handler, { path: '/slow-reader', query: { id: 'ip-slow', count: '20' } })
  let completed = 0
  const sends = []
  for (let seq = 0; seq < 20; seq++) {
    const message = Buffer.alloc(1000, seq)
    message.writeUInt32BE(seq, 0)
    sends.push(ws.send(message).then(() => completed++))
  }
  await waitFor(() => completed >= 3)
  await new Promise((resolve) => setTimeout(resolve, 300)) // the app is not receiving: nothing more may complete
  assert.ok(completed <= 4, `at most wsMaxQueue sends complete while the app does not receive, got ${completed}`)
  await handler.handleRequest({ method: 'POST', url: '/resume?id=ip-slow' })
  await Promise.all(sends)
  const summary = JSON.parse((await ws.receive()).data)
  assert.deepEqual(summary, { received: 20, in_order: true, bytes: 20000 })
  ws.close()
  await ws.finished
})

test('outbound backpressure: the app\'s send() waits while the client does not receive', async () => {
  const handler = handlerFor('ws_flow:app')
  const ws = await openInProcessWebSocket(handler, { path: '/fast-writer', query: { id: 'ip-fast', count: '64', size: String(64 * 1024) } })
  const progress = async () => JSON.parse((await handler.handleRequest({ url: '/progress?id=ip-fast' })).body.toString())
  await waitFor(async () => (await progress()).sent > 0)
  await new Promise((resolve) => setTimeout(resolve, 300))
  const stalled = await progress()
  assert.equal(stalled.done, false)
  assert.ok(stalled.sent < 8, `the app's send() should wait for the reader, it sent ${stalled.sent} of 64 (64 KiB each)`)
  let received = 0
  while (true) {
    const message = await ws.receive()
    if (message.type === 'text') {
      assert.equal(message.data, 'done')
      break
    }
    assert.equal(message.data.readUInt32BE(0), received)
    received++
  }
  assert.equal(received, 64)
  assert.equal((await progress()).done, true)
  ws.close()
  await ws.finished
})

test('a message over wsMaxSize closes with 1009 both ways', async () => {
  const handler = new PythonHandler({ app: 'ws_echo:app', appDir: FIXTURES, logger: captureLogger(), wsMaxSize: 1024 })
  try {
    const ws = await openInProcessWebSocket(handler, { query: { id: 'big' } })
    await assert.rejects(ws.send(Buffer.alloc(2048)), RangeError)
    assert.deepEqual(await ws.receive(), { type: 'close', code: 1009, reason: '' })
    await ws.finished
    assert.deepEqual(await events(handler, 'big'), [{ event: 'disconnect', code: 1009, reason: '' }])
  } finally {
    await handler.close()
  }
})

test('an AbortSignal: before the app answers it rejects with the reason and the app sees the client leave; after, 1006', async () => {
  const handler = handlerFor('ws_handshake:app')
  const controller = new AbortController()
  const opening = openInProcessWebSocket(handler, { path: '/delayed-accept', query: { id: 'abort1', delay: '0.3' }, signal: controller.signal })
  await waitFor(async () => (await events(handler, 'abort1')).length > 0) // the app has the connect
  controller.abort()
  await assert.rejects(opening, { name: 'AbortError' })
  await waitFor(async () => (await events(handler, 'abort1')).some((e) => e.event === 'accept_failed'))

  const echo = handlerFor('ws_echo:app')
  const later = new AbortController()
  const ws = await openInProcessWebSocket(echo, { query: { id: 'abort2' }, signal: later.signal })
  later.abort()
  assert.deepEqual(await ws.receive(), { type: 'close', code: 1006, reason: '' })
  await ws.finished
  assert.deepEqual(await events(echo, 'abort2'), [{ event: 'disconnect', code: 1006, reason: '' }])
  await assert.rejects(openInProcessWebSocket(echo, { signal: AbortSignal.abort() }), { name: 'AbortError' })
})

test('handler.close() closes open sessions with 1012 and resolves; a closed handler rejects new ones', async () => {
  const handler = new PythonHandler({ app: 'ws_echo:app', appDir: FIXTURES, logger: captureLogger() })
  const ws = await openInProcessWebSocket(handler, {}) // starts the handler
  await handler.close()
  assert.deepEqual(await ws.receive(), { type: 'close', code: 1012, reason: 'Service Restart' })
  await ws.finished
  await assert.rejects(openInProcessWebSocket(handler, {}), /node-asgi: the handler (closed|is closing)/)
})

test('bad options are TypeErrors naming the option', async () => {
  const handler = handlerFor('ws_echo:app')
  await assert.rejects(openInProcessWebSocket({}, {}), /'handler' must be a PythonHandler/)
  await assert.rejects(openInProcessWebSocket(handler, 'x'), { name: 'TypeError', message: /expects an options object/ })
  await assert.rejects(openInProcessWebSocket(handler, { path: 'ws' }), { name: 'TypeError', message: /'path'/ })
  await assert.rejects(openInProcessWebSocket(handler, { path: '/a b' }), { name: 'TypeError', message: /'path'/ })
  await assert.rejects(openInProcessWebSocket(handler, { pth: '/' }), { name: 'TypeError', message: /unknown WebSocket option 'pth'/ })
  await assert.rejects(openInProcessWebSocket(handler, { subprotocols: 'v1' }), { name: 'TypeError', message: /'subprotocols'/ })
  await assert.rejects(openInProcessWebSocket(handler, { subprotocols: ['a b'] }), { name: 'TypeError', message: /'subprotocols'/ })
  await assert.rejects(openInProcessWebSocket(handler, { client: ['h', 'p'] }), { name: 'TypeError', message: /'client'/ })
  await assert.rejects(openInProcessWebSocket(handler, { server: 'h:1' }), { name: 'TypeError', message: /'server'/ })
  await assert.rejects(openInProcessWebSocket(handler, { scheme: 'http' }), { name: 'TypeError', message: /'scheme'/ })
  await assert.rejects(openInProcessWebSocket(handler, { rootPath: 'api' }), { name: 'TypeError', message: /'rootPath'/ })
  await assert.rejects(openInProcessWebSocket(handler, { signal: {} }), { name: 'TypeError', message: /'signal'/ })
  await assert.rejects(openInProcessWebSocket(handler, { query: 5 }), { name: 'TypeError', message: /'query'/ })
  await assert.rejects(openInProcessWebSocket(handler, { headers: { 'bad name': 'x' } }), { name: 'TypeError', message: /bad name/ })
  const ws = await openInProcessWebSocket(handler, {})
  await assert.rejects(ws.send(42), { name: 'TypeError', message: /'data'/ })
  assert.throws(() => ws.close(1005), { name: 'RangeError', message: /'code'/ })
  assert.throws(() => ws.close('1000'), { name: 'TypeError', message: /'code' must be an integer/ })
  assert.throws(() => ws.close(1000, 'x'.repeat(124)), { name: 'TypeError', message: /'reason'/ })
  ws.close()
  await ws.finished
})
