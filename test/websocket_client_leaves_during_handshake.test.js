'use strict'
// A client that goes away while the app is still deciding whether to accept: the app's receive()
// gives websocket.disconnect 1006, its late websocket.accept does not crash anything (it raises
// an OSError or is ignored), and the server keeps serving.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const net = require('node:net')
const WebSocket = require('ws')
const { startWebSocketServer, waitFor, sleep } = require('./helpers')

let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_handshake:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

async function events (id) {
  return (await fetch(`${served.url}/events?id=${id}`)).json()
}

test('the client disconnects before the app accepts: the app sees websocket.disconnect 1006', { timeout: 10000 }, async () => {
  const id = 'gone'
  const socket = net.connect(served.port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`GET /delayed-accept?id=${id}&delay=0.3 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
    'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
  await waitFor(async () => (await events(id)).some((e) => e.event === 'connect'), { message: 'the app got websocket.connect' })
  socket.destroy()

  let recorded
  await waitFor(async () => {
    recorded = await events(id)
    return recorded.some((e) => e.event === 'websocket.disconnect')
  }, { message: 'websocket.disconnect after the late accept' })
  const accept = recorded.find((e) => e.event === 'accept_failed' || e.event === 'accept_sent')
  if (accept.event === 'accept_failed') assert.equal(accept.is_oserror, true, `late accept raised ${accept.type}`)
  assert.equal(recorded.find((e) => e.event === 'websocket.disconnect').code, 1006)
})

test('a ws client that gives up during a slow handshake leaves the server healthy', { timeout: 10000 }, async () => {
  for (let i = 0; i < 5; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${served.port}/delayed-accept?id=abort${i}&delay=0.2`)
    ws.on('error', () => {})
    await sleep(20)
    ws.terminate()
  }
  await waitFor(async () => {
    for (let i = 0; i < 5; i++) if (!(await events(`abort${i}`)).some((e) => e.event === 'websocket.disconnect')) return false
    return true
  }, { message: 'every aborted handshake ended in websocket.disconnect' })

  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/accept`)
  clients.add(ws)
  await once(ws, 'open')
  const echo = once(ws, 'message')
  ws.send('healthy')
  assert.equal((await echo)[0].toString(), 'healthy')
  ws.close()
})
