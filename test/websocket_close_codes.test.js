'use strict'
// Closing handshakes in both directions: the client sees the app's code and reason; the app's
// websocket.disconnect carries the client's code and reason, 1005 when it sent none, 1006 when
// the connection was lost without a close frame.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { WebSocket: BrowserWebSocket } = require('undici')
const { startWebSocketServer, waitFor } = require('./helpers')

let served
let nextId = 0
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_close:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

const newId = (label) => `${label}-${process.pid}-${nextId++}`

async function open (path) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}${path}`)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  await once(ws, 'open')
  return ws
}

async function events (id) {
  return (await fetch(`${served.url}/events?id=${encodeURIComponent(id)}`)).json()
}

/** Waits until the app recorded an event named `name` for `id`, and returns it. */
async function appEvent (id, name) {
  let found
  await waitFor(async () => { found = (await events(id)).find((e) => e.event === name); return found }, { message: `${name} for ${id}` })
  return found
}

test('the app closes with a code and reason: the client sees both', { timeout: 10000 }, async () => {
  const id = newId('app-close')
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/app-close?id=${id}&code=4001&reason=${encodeURIComponent('bye from app – ünïcode')}`)
  clients.add(ws)
  const messages = []
  ws.on('message', (data) => messages.push(data.toString()))
  const [code, reason] = await once(ws, 'close')
  assert.equal(code, 4001)
  assert.equal(reason.toString(), 'bye from app – ünïcode')
  assert.deepEqual(messages, ['hello'])
  // The client's echo of the close reaches the app as websocket.disconnect with the same code.
  assert.deepEqual(await appEvent(id, 'websocket.disconnect'), { event: 'websocket.disconnect', code: 4001 })
})

test('the app closes without a code: the client sees 1000', { timeout: 10000 }, async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/app-close?id=${newId('default')}`)
  clients.add(ws)
  const [code, reason] = await once(ws, 'close')
  assert.equal(code, 1000)
  assert.equal(reason.toString(), '')
})

test('the app closes with 1001 and no reason: a browser-style client sees a clean close', { timeout: 10000 }, async () => {
  const ws = new BrowserWebSocket(`ws://127.0.0.1:${served.port}/app-close?code=1001`)
  const event = await new Promise((resolve, reject) => {
    ws.onclose = resolve
    ws.onerror = () => {}
    setTimeout(() => reject(new Error('no close event')), 8000).unref()
  })
  assert.equal(event.code, 1001)
  assert.equal(event.reason, '')
  assert.equal(event.wasClean, true)
})

test('the client closes with a code and reason: the app sees websocket.disconnect with them', { timeout: 10000 }, async () => {
  const id = newId('client-close')
  const ws = await open(`/wait?id=${id}`)
  ws.close(4002, 'bye from client ✓')
  const [code] = await once(ws, 'close')
  assert.equal(code, 4002) // the server echoes the client's code
  assert.deepEqual(await appEvent(id, 'disconnect'), { event: 'disconnect', code: 4002, reason: 'bye from client ✓' })
})

test('the client closes with 1000: the app sees 1000 and an empty reason', { timeout: 10000 }, async () => {
  const id = newId('normal')
  const ws = await open(`/wait?id=${id}`)
  ws.close(1000)
  await once(ws, 'close')
  assert.deepEqual(await appEvent(id, 'disconnect'), { event: 'disconnect', code: 1000, reason: '' })
})

test('the client closes without a code: the app sees 1005', { timeout: 10000 }, async () => {
  const id = newId('no-code')
  const ws = await open(`/wait?id=${id}`)
  ws.close()
  await once(ws, 'close')
  assert.deepEqual(await appEvent(id, 'disconnect'), { event: 'disconnect', code: 1005, reason: '' })
})

test('the client vanishes (socket destroyed, no close frame): the app sees 1006', { timeout: 10000 }, async () => {
  const id = newId('abrupt')
  const ws = await open(`/wait?id=${id}`)
  // Make sure the app is inside receive() before the connection goes away.
  ws.send('ping')
  await once(ws, 'message')
  ws._socket.destroy()
  assert.deepEqual(await appEvent(id, 'disconnect'), { event: 'disconnect', code: 1006, reason: '' })
})

test('ws.terminate() is an abnormal closure too: the app sees 1006', { timeout: 10000 }, async () => {
  const id = newId('terminate')
  const ws = await open(`/wait?id=${id}`)
  ws.terminate()
  assert.equal((await appEvent(id, 'disconnect')).code, 1006)
})

test('receive() after websocket.disconnect returns websocket.disconnect again (does not hang)', { timeout: 10000 }, async () => {
  const id = newId('again')
  const ws = await open(`/wait?id=${id}`)
  ws.close(4003, 'x')
  await once(ws, 'close')
  assert.equal((await appEvent(id, 'receive_after_disconnect')).type, 'websocket.disconnect')
})
