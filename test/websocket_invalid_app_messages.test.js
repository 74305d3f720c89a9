'use strict'
// Malformed or misordered messages from an app after websocket.accept: send() raises TypeError,
// ValueError or RuntimeError naming the problem, nothing reaches the client, and the connection
// stays usable.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, waitFor } = require('./helpers')

let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_handshake:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

test('each invalid message makes send() raise and the connection stays open', { timeout: 10000 }, async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/bad-messages?id=bad`)
  clients.add(ws)
  const messages = []
  ws.on('message', (data, isBinary) => messages.push({ text: data.toString(), isBinary }))
  const [code] = await once(ws, 'close')
  assert.equal(code, 1000)
  assert.deepEqual(messages, [{ text: 'still open', isBinary: false }], 'only the valid message reached the client')

  let events
  await waitFor(async () => {
    events = await (await fetch(`${served.url}/events?id=bad`)).json()
    return events.filter((e) => e.label).length === 11
  }, { message: 'all 11 attempts recorded' })
  const byLabel = Object.fromEntries(events.filter((e) => e.label).map((e) => [e.label, e]))
  for (const e of Object.values(byLabel)) assert.equal(e.event, 'rejected', `${e.label} must raise`)

  assert.equal(byLabel['both text and bytes'].type, 'ValueError')
  assert.match(byLabel['both text and bytes'].message, /exactly one of 'bytes' and 'text'.*both/)
  assert.equal(byLabel['neither text nor bytes'].type, 'ValueError')
  assert.match(byLabel['neither text nor bytes'].message, /neither/)
  assert.equal(byLabel['text is bytes'].type, 'TypeError')
  assert.match(byLabel['text is bytes'].message, /'text' must be a str/)
  assert.equal(byLabel['bytes is str'].type, 'TypeError')
  assert.match(byLabel['bytes is str'].message, /'bytes' must be bytes/)
  assert.equal(byLabel['accept twice'].type, 'RuntimeError')
  assert.equal(byLabel['accept twice'].message,
    "Expected ASGI message 'websocket.send' or 'websocket.close', but got 'websocket.accept'.")
  assert.equal(byLabel['unknown type'].type, 'RuntimeError')
  assert.match(byLabel['unknown type'].message, /but got 'websocket\.bogus'/)
  assert.equal(byLabel['close code not an int'].type, 'TypeError')
  assert.equal(byLabel['close code 999'].type, 'ValueError')
  assert.equal(byLabel['close code 1005'].type, 'ValueError')
  assert.equal(byLabel['close reason over 123 bytes'].type, 'ValueError')
  assert.equal(byLabel['not a dict'].type, 'TypeError')
})
