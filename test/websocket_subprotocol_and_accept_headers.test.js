'use strict'
// websocket.accept's subprotocol and headers go into the 101 response: the app picks one of the
// offered subprotocols, the client sees it (ws and undici), and extra headers arrive as sent.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const crypto = require('node:crypto')
const WebSocket = require('ws')
const { WebSocket: BrowserWebSocket } = require('undici')
const { startWebSocketServer, rawRequest, parseResponse } = require('./helpers')

let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_handshake:app')
})

after(async () => {
  for (const ws of clients) {
    if (typeof ws.terminate === 'function') ws.terminate()
    else ws.close()
  }
  await served?.close()
})

/** Opens a `ws` client and resolves { ws, response } once the 101 arrived and the socket is open. */
async function open (path, protocols, options) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}${path}`, protocols, options)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  const upgraded = once(ws, 'upgrade')
  const opened = once(ws, 'open') // emitted in the same tick as 'upgrade'
  const [response] = await upgraded
  await opened
  return { ws, response }
}

test('the app picks the second offered subprotocol: the 101 and ws.protocol carry it', { timeout: 10000 }, async () => {
  const { ws, response } = await open('/accept?pick=1', ['chat.v1', 'chat.v2'])
  assert.equal(response.statusCode, 101)
  assert.equal(response.headers['sec-websocket-protocol'], 'chat.v2')
  assert.equal(ws.protocol, 'chat.v2')
  assert.equal(response.headers['x-app-offered'], 'chat.v1,chat.v2')
  // and the connection works
  const echo = once(ws, 'message')
  ws.send('after negotiation')
  assert.equal((await echo)[0].toString(), 'after negotiation')
  ws.close()
})

test('extra websocket.accept headers appear in the 101, repeated ones kept', { timeout: 10000 }, async () => {
  const { ws, response } = await open('/accept?pick=0', ['only'])
  assert.equal(response.headers['x-extra'], 'yes')
  assert.deepEqual(response.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'])
  assert.equal(response.headers['sec-websocket-protocol'], 'only')
  assert.equal(response.headers.upgrade.toLowerCase(), 'websocket')
  ws.close()
})

test('without a subprotocol in websocket.accept the 101 has no Sec-WebSocket-Protocol', { timeout: 10000 }, async () => {
  const { ws, response } = await open('/accept')
  assert.equal(response.headers['sec-websocket-protocol'], undefined)
  assert.equal(ws.protocol, '')
  assert.equal(response.headers['x-extra'], 'yes')
  ws.close()
})

test('the raw 101 has the RFC 6455 accept key, the chosen subprotocol and the extra headers', { timeout: 10000 }, async () => {
  const key = crypto.randomBytes(16).toString('base64')
  const expectedAccept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
  const { data } = await rawRequest(served.port,
    'GET /accept?pick=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: first, second\r\n\r\n`,
    { until: (buf) => buf.includes('\r\n\r\n') })
  const res = parseResponse(data)
  assert.ok(res, `no complete response head in ${JSON.stringify(data.toString('latin1'))}`)
  assert.equal(res.status, 101)
  assert.deepEqual(res.headers['sec-websocket-accept'], [expectedAccept])
  assert.deepEqual(res.headers['sec-websocket-protocol'], ['second'])
  assert.deepEqual(res.headers['x-extra'], ['yes'])
  assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'])
  assert.deepEqual(res.headers['x-app-offered'], ['first,second'])
})

test("undici's browser WebSocket sees the chosen subprotocol", { timeout: 10000 }, async () => {
  const ws = new BrowserWebSocket(`ws://127.0.0.1:${served.port}/accept?pick=1`, ['proto.a', 'proto.b'])
  clients.add(ws)
  await new Promise((resolve, reject) => {
    ws.onopen = resolve
    ws.onerror = () => reject(new Error('undici WebSocket failed to open'))
  })
  assert.equal(ws.protocol, 'proto.b')
  const closed = new Promise((resolve) => { ws.onclose = resolve })
  ws.close()
  await closed
  clients.delete(ws)
})
