'use strict'
// The ASGI websocket scope an app receives: type, scheme, paths, query, headers, subprotocols,
// extensions, lifespan state, client and server addresses.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const http = require('node:http')
const WebSocket = require('ws')
const { PythonHandler } = require('..')
const { startWebSocketServer, captureLogger, FIXTURES, native } = require('./helpers')

let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_scope:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

function connect (port, path, protocols, options) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, protocols, options)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  return ws
}

/** Connects and resolves { scope, types, ws } from the app's first message. */
async function scopeOf (path, protocols, options, port = served.port) {
  const ws = connect(port, path, protocols, options)
  const [data, isBinary] = await once(ws, 'message')
  assert.equal(isBinary, false)
  const { scope, types } = JSON.parse(data.toString())
  return { scope, types, ws }
}

const header = (scope, name) => scope.headers.filter(([n]) => n === name).map(([, v]) => v)

test('scope has type websocket, scheme ws, asgi 3.0 and HTTP/1.1', { timeout: 10000 }, async () => {
  const { scope, ws } = await scopeOf('/plain')
  assert.equal(scope.type, 'websocket')
  assert.equal(scope.scheme, 'ws')
  assert.equal(scope.asgi.version, '3.0')
  assert.equal(scope.http_version, '1.1')
  assert.equal(scope.root_path, '')
  ws.close()
})

test('path is percent- and UTF-8-decoded; raw_path keeps the bytes; query_string is raw', { timeout: 10000 }, async () => {
  const { scope, types, ws } = await scopeOf('/caf%C3%A9/a%2Fb/%F0%9F%8E%89?x=1&y=%20z&x=2&e=%C3%A9')
  assert.equal(scope.path, '/café/a/b/🎉')
  // raw_path is bytes (sent to the test as latin-1): exactly what was on the request line
  assert.equal(scope.raw_path, '/caf%C3%A9/a%2Fb/%F0%9F%8E%89')
  assert.equal(scope.query_string, 'x=1&y=%20z&x=2&e=%C3%A9')
  assert.equal(types.path, 'str')
  assert.equal(types.raw_path, 'bytes')
  assert.equal(types.query_string, 'bytes')
  ws.close()
})

test('empty query string is b"" and the root path is /', { timeout: 10000 }, async () => {
  const { scope, types, ws } = await scopeOf('/')
  assert.equal(scope.path, '/')
  assert.equal(scope.raw_path, '/')
  assert.equal(scope.query_string, '')
  assert.equal(types.query_string, 'bytes')
  ws.close()
})

test('headers are lower-cased byte pairs in order, duplicates kept, handshake headers included', { timeout: 10000 }, async () => {
  const { scope, types, ws } = await scopeOf('/headers', undefined, {
    headers: { 'X-Custom-One': 'First', 'X-Dup': ['a', 'b'], 'X-Latin': 'caf\xe9' },
    perMessageDeflate: false
  })
  assert.equal(types.headers, 'list')
  assert.equal(types['headers[0][0]'], 'bytes')
  assert.equal(types['headers[0][1]'], 'bytes')
  for (const [name] of scope.headers) assert.equal(name, name.toLowerCase(), `header name ${name} is lower-cased`)
  assert.deepEqual(header(scope, 'x-custom-one'), ['First'])
  assert.deepEqual(header(scope, 'x-dup'), ['a', 'b'])
  assert.deepEqual(header(scope, 'x-latin'), ['caf\xe9'])
  assert.deepEqual(header(scope, 'upgrade'), ['websocket'])
  assert.deepEqual(header(scope, 'sec-websocket-version'), ['13'])
  assert.equal(header(scope, 'sec-websocket-key').length, 1)
  assert.match(header(scope, 'sec-websocket-key')[0], /^[A-Za-z0-9+/]{22}==$/)
  assert.deepEqual(header(scope, 'host'), [`127.0.0.1:${served.port}`])
  ws.close()
})

test('subprotocols lists every offered protocol, in order; empty list when none offered', { timeout: 10000 }, async () => {
  const offered = await scopeOf('/sub', ['chat.v1', 'chat.v2', 'x-custom'])
  assert.deepEqual(offered.scope.subprotocols, ['chat.v1', 'chat.v2', 'x-custom'])
  assert.equal(offered.types.subprotocols, 'list')
  assert.equal(offered.ws.protocol, 'chat.v1') // the fixture accepts the first one
  offered.ws.close()

  const none = await scopeOf('/nosub')
  assert.deepEqual(none.scope.subprotocols, [])
  none.ws.close()
})

test('extensions advertise websocket.http.response', { timeout: 10000 }, async () => {
  const { scope, types, ws } = await scopeOf('/ext')
  assert.equal(types.extensions, 'dict')
  assert.deepEqual(scope.extensions['websocket.http.response'], {})
  ws.close()
})

test('state is a shallow copy of the lifespan state, fresh for each connection', { timeout: 10000 }, async () => {
  const first = await scopeOf('/state')
  assert.deepEqual(first.scope.state, { greeting: 'hello from lifespan', answer: 42 })
  first.ws.close()
  await once(first.ws, 'close')
  // The first connection added a key to its copy after sending; the next copy must not have it.
  const second = await scopeOf('/state')
  assert.deepEqual(second.scope.state, { greeting: 'hello from lifespan', answer: 42 })
  second.ws.close()
})

test('client and server are [host, port] of the TCP connection', { timeout: 10000 }, async () => {
  const ws = connect(served.port, '/addresses')
  const [data] = await once(ws, 'message')
  const { scope, types } = JSON.parse(data.toString())
  const socket = ws._socket
  assert.equal(types.client, 'tuple')
  assert.equal(types.server, 'tuple')
  assert.deepEqual(scope.client, ['127.0.0.1', socket.localPort])
  assert.deepEqual(scope.server, ['127.0.0.1', served.port])
  ws.close()
})

test(`rootPath appears as root_path and prefixes path (${native ? 'handler.listen()' : 'attach()'} server)`, { timeout: 15000 }, async () => {
  const handler = new PythonHandler({ app: 'ws_scope:app', appDir: FIXTURES, rootPath: '/mount', logger: captureLogger() })
  await handler.start()
  let server
  if (native) {
    server = await handler.listen({ port: 0, host: '127.0.0.1' })
  } else {
    server = handler.attach(http.createServer())
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
  }
  try {
    const { scope, ws } = await scopeOf('/inner?q=1', undefined, undefined, server.address().port)
    assert.equal(scope.root_path, '/mount')
    assert.equal(scope.path, '/mount/inner')
    assert.equal(scope.raw_path, '/mount/inner') // uvicorn >= 0.26: raw_path carries root_path too
    assert.equal(scope.query_string, 'q=1')
    ws.close()
    await once(ws, 'close')
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await handler.close()
  }
})
