'use strict'
// Handshakes that do not become WebSockets: websocket.close before accepting answers 403, the
// websocket.http.response extension sends the app's own response, and malformed handshakes get 400
// without reaching the app. The server stays usable afterwards.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, rawRequest, parseResponse } = require('./helpers')

let served
let nextId = 0
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_handshake:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

/** A raw handshake request; `omit` drops a header, `extra` adds lines. */
function handshake (target, { omit = [], extra = [], key = KEY, version = '13' } = {}) {
  const lines = [`GET ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade']
  if (!omit.includes('key')) lines.push(`Sec-WebSocket-Key: ${key}`)
  if (!omit.includes('version')) lines.push(`Sec-WebSocket-Version: ${version}`)
  return lines.concat(extra).join('\r\n') + '\r\n\r\n'
}

/** Sends a raw handshake and resolves the parsed response (the server must close the connection). */
async function rejected (target, options) {
  const { data, ended } = await rawRequest(served.port, handshake(target, options), { timeoutMs: 5000 })
  const res = parseResponse(data)
  assert.ok(res, `no response head in ${JSON.stringify(data.toString('latin1'))}`)
  assert.equal(ended, true, 'the server closes the connection after a refused handshake')
  return res
}

async function events (id) {
  const res = await fetch(`${served.url}/events?id=${id}`)
  return res.json()
}

/** Connects with `ws` and resolves the non-101 response (status, headers, body). */
async function unexpectedResponse (path) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}${path}`)
  clients.add(ws)
  ws.on('error', () => {}) // ws reports the refused handshake as an error after the event
  const [, res] = await once(ws, 'unexpected-response')
  const chunks = []
  for await (const chunk of res) chunks.push(chunk)
  clients.delete(ws)
  ws.terminate()
  return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }
}

test('websocket.close before websocket.accept answers 403', { timeout: 10000 }, async () => {
  const id = `close-${nextId++}`
  const res = await rejected(`/close-before-accept?id=${id}`)
  assert.equal(res.status, 403)
  assert.equal(res.headers.upgrade, undefined)
  assert.equal(res.headers['sec-websocket-accept'], undefined)
  assert.deepEqual(await events(id), [{ event: 'connect', path: '/close-before-accept' }])
})

test('a ws client sees the 403 as an unexpected response, and no open event', { timeout: 10000 }, async () => {
  const { status } = await unexpectedResponse('/close-before-accept')
  assert.equal(status, 403)
})

test('the denial response extension sends the app status, headers and body (in two chunks)', { timeout: 10000 }, async () => {
  const res = await rejected(`/deny?id=deny-${nextId++}`)
  assert.equal(res.status, 401)
  assert.deepEqual(res.headers['x-denied'], ['yes'])
  assert.deepEqual(res.headers['www-authenticate'], ['Bearer realm="ws"'])
  assert.deepEqual(res.headers['content-type'], ['text/plain; charset=utf-8'])
  assert.equal(res.headers.upgrade, undefined)
  // The body is framed (Content-Length or close-delimited) and complete.
  if (res.headers['content-length']) assert.deepEqual(res.headers['content-length'], ['19'])
  assert.equal(res.body.toString(), 'no token, no socket')
})

test('a ws client reads the denial response status, headers and body', { timeout: 10000 }, async () => {
  const { status, headers, body } = await unexpectedResponse('/deny')
  assert.equal(status, 401)
  assert.equal(headers['x-denied'], 'yes')
  assert.equal(body, 'no token, no socket')
})

test('a denial response with an empty body keeps its status and headers', { timeout: 10000 }, async () => {
  const res = await rejected('/deny-empty')
  assert.equal(res.status, 429)
  assert.deepEqual(res.headers['retry-after'], ['7'])
  assert.equal(res.body.length, 0)
})

test('a handshake without Sec-WebSocket-Key gets 400 and never reaches the app', { timeout: 10000 }, async () => {
  const id = `nokey-${nextId++}`
  const res = await rejected(`/accept?id=${id}`, { omit: ['key'] })
  assert.equal(res.status, 400)
  assert.deepEqual(await events(id), [])
})

test('a malformed Sec-WebSocket-Key or an unsupported version gets 400 without reaching the app', { timeout: 10000 }, async () => {
  const id = `badkey-${nextId++}`
  assert.equal((await rejected(`/accept?id=${id}`, { key: 'not-base64!' })).status, 400)
  assert.equal((await rejected(`/accept?id=${id}`, { key: 'c2hvcnQ=' })).status, 400) // 5 bytes, not 16
  assert.equal((await rejected(`/accept?id=${id}`, { version: '8' })).status, 400)
  assert.equal((await rejected(`/accept?id=${id}`, { omit: ['version'] })).status, 400)
  assert.deepEqual(await events(id), [])
})

test('a malformed Sec-WebSocket-Protocol or Sec-WebSocket-Extensions gets 400 without reaching the app', { timeout: 10000 }, async () => {
  // RFC 6455 4.1: offered subprotocols are unique tokens. ws refuses these handshakes itself; the
  // app must not be asked to accept a connection that can never open.
  const cases = [ // [label, header line, query that makes the app accept the first offered subprotocol]
    ['duplicate subprotocols', 'Sec-WebSocket-Protocol: chat, chat', '&pick=0'],
    ['subprotocol that is not a token', 'Sec-WebSocket-Protocol: a b', '&pick=0'],
    ['invalid permessage-deflate parameter', 'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=99', '']
  ]
  const outcomes = []
  for (const [label, line, pick] of cases) {
    const id = `malformed-${nextId++}`
    const res = await rejected(`/accept?id=${id}${pick}`, { extra: [line] })
    const reached = (await events(id)).some((e) => e.event === 'connect')
    outcomes.push({ label, status: res.status, reachedApp: reached })
  }
  assert.deepEqual(outcomes, cases.map(([label]) => ({ label, status: 400, reachedApp: false })))
})

test('after refused handshakes the server still accepts WebSockets and HTTP', { timeout: 10000 }, async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/accept`)
  clients.add(ws)
  await once(ws, 'open')
  const echo = once(ws, 'message')
  ws.send('still alive')
  assert.equal((await echo)[0].toString(), 'still alive')
  ws.close()
  await once(ws, 'close')
  const res = await fetch(`${served.url}/events?id=none`)
  assert.equal(res.status, 200)
})
