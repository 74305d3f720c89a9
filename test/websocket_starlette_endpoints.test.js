'use strict'
// Starlette (Debian 0.26) WebSocket endpoints served by node-asgi: receive_text/send_text,
// iter_json/send_json, receive_bytes/send_bytes, path/query/header/cookie access, subprotocols,
// a WebSocketEndpoint class, close before accept (403) and WebSocketDisconnect codes.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, waitFor } = require('./helpers')

let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_starlette_app:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

async function open (path, protocols, options) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}${path}`, protocols, options)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  await once(ws, 'open')
  return ws
}

async function request (ws, data) {
  const reply = once(ws, 'message')
  ws.send(data)
  const [message, isBinary] = await reply
  return { message, isBinary }
}

async function recorded (id, where) {
  let found
  await waitFor(async () => {
    const events = await (await fetch(`${served.url}/events?id=${id}`)).json()
    found = events.find((e) => e.where === where)
    return found
  }, { message: `${where} event for ${id}` })
  return found
}

test('HTTP routes still work next to WebSocket routes', { timeout: 10000 }, async () => {
  const res = await fetch(`${served.url}/`)
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'starlette http ok')
})

test('receive_text/send_text echo, and WebSocketDisconnect carries the client code', { timeout: 10000 }, async () => {
  const ws = await open('/ws/text?id=text')
  for (const text of ['hello', 'ünïcödé ✓', '']) {
    const { message, isBinary } = await request(ws, text)
    assert.equal(isBinary, false)
    assert.equal(message.toString(), `echo: ${text}`)
  }
  ws.close(4010, 'leaving')
  await once(ws, 'close')
  assert.deepEqual(await recorded('text', 'echo_text'), { where: 'echo_text', code: 4010 })
})

test('iter_json/send_json round-trip JSON objects as text frames', { timeout: 10000 }, async () => {
  const ws = await open('/ws/json?id=json')
  let { message, isBinary } = await request(ws, JSON.stringify({ name: 'ada', count: 1, nested: { list: [1, 2] } }))
  assert.equal(isBinary, false)
  assert.deepEqual(JSON.parse(message), { name: 'ada', count: 2, nested: { list: [1, 2] }, seen_by: 'starlette' })
  ;({ message } = await request(ws, JSON.stringify({ emoji: '🎉' })))
  assert.deepEqual(JSON.parse(message), { emoji: '🎉', count: 1, seen_by: 'starlette' })
  ws.close(1000)
  await once(ws, 'close')
  assert.deepEqual(await recorded('json', 'echo_json'), { where: 'echo_json', ended: true })
})

test('receive_bytes/send_bytes keep binary frames', { timeout: 10000 }, async () => {
  const ws = await open('/ws/bytes')
  const { message, isBinary } = await request(ws, Buffer.from([1, 2, 3, 0, 255]))
  assert.equal(isBinary, true)
  assert.deepEqual([...message], [255, 0, 3, 2, 1])
  ws.close()
})

test('path params, query params, headers, cookies, url, client and subprotocol; close(code=4001)', { timeout: 10000 }, async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/ws/rooms/lobby%20one?limit=5&tag=a`, ['v1', 'v2'], {
    headers: { 'X-Token': 'tok-123', Cookie: 'session=abc; other=1' }
  })
  clients.add(ws)
  const [data] = await once(ws, 'message')
  assert.equal(ws.protocol, 'v2')
  const info = JSON.parse(data.toString())
  assert.equal(info.room, 'lobby one')
  assert.deepEqual(info.query, { limit: '5', tag: 'a' })
  assert.equal(info.header, 'tok-123')
  assert.equal(info.cookie, 'abc')
  // Starlette 0.26 builds the URL from the decoded scope path
  assert.equal(info.url, `ws://127.0.0.1:${served.port}/ws/rooms/lobby one?limit=5&tag=a`)
  assert.equal(info.client_host, '127.0.0.1')
  assert.deepEqual(info.subprotocols, ['v1', 'v2'])
  const [code] = await once(ws, 'close')
  assert.equal(code, 4001)
})

/** The HTTP status a handshake to `path` is refused with. */
async function refusalStatus (path) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}${path}`)
  clients.add(ws)
  ws.on('error', () => {})
  const [, res] = await once(ws, 'unexpected-response')
  res.resume()
  ws.terminate()
  return res.statusCode
}

test('websocket.close() before accept is answered with 403', { timeout: 10000 }, async () => {
  assert.equal(await refusalStatus('/ws/reject'), 403)
})

test('an unknown WebSocket route is refused by the router before accepting (403)', { timeout: 10000 }, async () => {
  assert.equal(await refusalStatus('/ws/does-not-exist'), 403)
})

test('a WebSocketEndpoint class keeps per-connection state and gets on_disconnect(code)', { timeout: 10000 }, async () => {
  const ws = await open('/ws/endpoint?id=endpoint')
  assert.equal((await request(ws, 'a')).message.toString(), '1:a')
  assert.equal((await request(ws, 'b')).message.toString(), '2:b')
  const other = await open('/ws/endpoint?id=endpoint-other')
  assert.equal((await request(other, 'x')).message.toString(), '1:x')
  other.close()
  ws.close(1001)
  await once(ws, 'close')
  assert.deepEqual(await recorded('endpoint', 'endpoint'), { where: 'endpoint', code: 1001 })
  assert.deepEqual(await recorded('endpoint-other', 'endpoint'), { where: 'endpoint', code: 1005 })
})
