'use strict'
// The ASGI HTTP scope an app receives: type, asgi version, http_version, method, scheme, decoded
// path vs raw_path, query_string bytes, headers (lower-cased, order and duplicates kept), client,
// server, root_path, state and extensions.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startServer, rawRequest, parseResponse } = require('./helpers')

let scopeServer
let echoServer

before(async () => {
  scopeServer = await startServer('raw_apps:scope_json')
  echoServer = await startServer('raw_apps:echo')
})

after(async () => {
  await scopeServer?.close()
  await echoServer?.close()
})

/** GETs `target` from scope_json over a raw socket and returns { scope, localPort }. */
async function scopeOf (target, { method = 'GET', version = '1.1', headers = 'Host: 127.0.0.1\r\n' } = {}) {
  let localPort = null
  const { data } = await rawRequest(scopeServer.port, `${method} ${target} HTTP/${version}\r\n${headers}Connection: close\r\n\r\n`, {
    onSocket: (socket) => socket.on('connect', () => { localPort = socket.localPort })
  })
  const res = parseResponse(data)
  assert.ok(res, `no response head in ${JSON.stringify(data.toString('latin1'))}`)
  assert.equal(res.status, 200, res.body.toString())
  return { scope: JSON.parse(res.body.toString('utf8')), localPort }
}

test('the scope has type http, ASGI 3.0 / spec 2.4, scheme http, empty root_path and extensions', async () => {
  const res = await fetch(`${scopeServer.url}/`)
  assert.equal(res.status, 200)
  const scope = await res.json()
  assert.equal(scope.type, 'http')
  assert.deepEqual(scope.asgi, { version: '3.0', spec_version: '2.4' })
  assert.equal(scope.scheme, 'http')
  assert.equal(scope.root_path, '')
  assert.deepEqual(scope.extensions, {})
  assert.equal(scope.method, 'GET')
  assert.equal(scope.path, '/')
  assert.equal(scope.raw_path, '/')
  assert.equal(scope.query_string, '')
})

test('method is passed as sent (POST, PUT, DELETE, PATCH, OPTIONS)', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    const res = await fetch(`${scopeServer.url}/m`, { method })
    assert.equal(res.status, 200)
    assert.equal((await res.json()).method, method)
  }
})

test('http_version is 1.1 for HTTP/1.1 requests and 1.0 for HTTP/1.0 requests', async () => {
  assert.equal((await scopeOf('/v', { version: '1.1' })).scope.http_version, '1.1')
  assert.equal((await scopeOf('/v', { version: '1.0' })).scope.http_version, '1.0')
})

test('path is percent- and UTF-8-decoded; raw_path keeps the bytes as sent', async () => {
  const { scope } = await scopeOf('/caf%C3%A9/%E2%9C%93?x=1')
  assert.equal(scope.path, '/café/✓')
  assert.equal(scope.raw_path, '/caf%C3%A9/%E2%9C%93')
})

test('%2F is decoded to / in path but kept as %2F in raw_path', async () => {
  const { scope } = await scopeOf('/a%2Fb/c')
  assert.equal(scope.path, '/a/b/c')
  assert.equal(scope.raw_path, '/a%2Fb/c')
})

test('the echo app sees the UTF-8 path and raw_path headers it reports', async () => {
  const res = await fetch(`${echoServer.url}/caf%C3%A9?q=1`)
  assert.equal(res.status, 200)
  assert.equal(Buffer.from(res.headers.get('x-path'), 'latin1').toString('utf8'), '/café')
  assert.equal(res.headers.get('x-raw-path'), '/caf%C3%A9')
  assert.equal(res.headers.get('x-query'), 'q=1')
})

test('raw_path has no query; query_string is the raw bytes after ?, undecoded', async () => {
  const { scope } = await scopeOf('/search?q=caf%C3%A9&x=a+b&empty=&flag')
  assert.equal(scope.raw_path, '/search')
  assert.equal(scope.path, '/search')
  assert.equal(scope.query_string, 'q=caf%C3%A9&x=a+b&empty=&flag')
})

test('an empty query after ? gives an empty query_string', async () => {
  const { scope } = await scopeOf('/p?')
  assert.equal(scope.raw_path, '/p')
  assert.equal(scope.query_string, '')
})

test('headers are lower-cased [name, value] pairs with order and duplicates kept', async () => {
  const { scope } = await scopeOf('/h', {
    headers: 'Host: 127.0.0.1\r\nX-Dup: first\r\nX-Mixed-CASE: Value Keeps Case\r\nx-dup: second\r\nAccept: */*\r\nX-Dup: third\r\n'
  })
  const names = scope.headers.map(([name]) => name)
  for (const name of names) assert.equal(name, name.toLowerCase())
  const relevant = scope.headers.filter(([name]) => name.startsWith('x-') || name === 'accept' || name === 'host')
  assert.deepEqual(relevant, [
    ['host', '127.0.0.1'],
    ['x-dup', 'first'],
    ['x-mixed-case', 'Value Keeps Case'],
    ['x-dup', 'second'],
    ['accept', '*/*'],
    ['x-dup', 'third']
  ])
  assert.deepEqual(scope.headers.at(-1), ['connection', 'close'])
})

test('header values are passed as latin-1 bytes', async () => {
  const request = Buffer.concat([
    Buffer.from('GET /latin HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Latin: caf'),
    Buffer.from([0xe9]),
    Buffer.from('\r\nConnection: close\r\n\r\n')
  ])
  const { data } = await rawRequest(scopeServer.port, request)
  const res = parseResponse(data)
  assert.equal(res.status, 200)
  const scope = JSON.parse(res.body.toString('utf8'))
  // scope_json renders bytes as latin-1 strings: the single byte 0xE9 becomes 'é'
  assert.deepEqual(scope.headers.find(([name]) => name === 'x-latin'), ['x-latin', 'café'])
})

test('client is [client address, client port] and server is [server address, server port]', async () => {
  const { scope, localPort } = await scopeOf('/addr')
  assert.deepEqual(scope.client, ['127.0.0.1', localPort])
  assert.deepEqual(scope.server, ['127.0.0.1', scopeServer.port])
})

test('state is present (the lifespan state, empty for an app that sets none)', async () => {
  const { scope } = await scopeOf('/state')
  assert.ok('state' in scope, 'scope has no state')
  assert.deepEqual(scope.state, [])
})

test('state carries the lifespan state keys', async () => {
  const served = await startServer('raw_apps:lifespan_state')
  try {
    const res = await fetch(`${served.url}/`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { started: true, mutated_before: false, counter: 0, hits: 1 })
  } finally {
    await served.close()
  }
})
