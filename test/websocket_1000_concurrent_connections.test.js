'use strict'
// 1000 WebSocket connections open at once (opened in bounded batches), each echoing its own
// messages: every reply matches what that connection sent, and every close reaches the app.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, waitFor } = require('./helpers')

const CONNECTIONS = 1000
const BATCH = 100
const MESSAGES = 3
let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_echo:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

async function openOne (i) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/echo/${i}?id=concurrent`, { perMessageDeflate: false })
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  const replies = []
  ws.on('message', (data, isBinary) => replies.push(isBinary ? data : data.toString()))
  await once(ws, 'open')
  return { i, ws, replies }
}

function expectedFor (i) {
  const out = []
  for (let k = 0; k < MESSAGES; k++) out.push(`connection ${i} message ${k} ${'x'.repeat(i % 50)}`)
  const binary = Buffer.alloc(8)
  binary.writeUInt32BE(i, 0)
  binary.writeUInt32BE((0xdeadbeef ^ i) >>> 0, 4)
  out.push(binary)
  return out
}

test(`${CONNECTIONS} concurrent connections each get exactly their own echoes`, { timeout: 55000 }, async () => {
  const conns = []
  for (let start = 0; start < CONNECTIONS; start += BATCH) {
    const batch = []
    for (let i = start; i < Math.min(start + BATCH, CONNECTIONS); i++) batch.push(openOne(i))
    conns.push(...await Promise.all(batch))
  }
  assert.equal(conns.length, CONNECTIONS)
  assert.ok(conns.every((c) => c.ws.readyState === WebSocket.OPEN), 'all connections open at the same time')

  for (const c of conns) for (const message of expectedFor(c.i)) c.ws.send(message)
  await waitFor(() => conns.every((c) => c.replies.length >= MESSAGES + 1), { timeoutMs: 30000, intervalMs: 50, message: 'all echoes' })

  for (const c of conns) {
    const expected = expectedFor(c.i)
    assert.equal(c.replies.length, expected.length, `connection ${c.i} reply count`)
    for (let k = 0; k < MESSAGES; k++) assert.equal(c.replies[k], expected[k], `connection ${c.i} message ${k}`)
    assert.ok(Buffer.isBuffer(c.replies[MESSAGES]) && c.replies[MESSAGES].equals(expected[MESSAGES]), `connection ${c.i} binary reply`)
  }

  const closed = conns.map((c) => once(c.ws, 'close'))
  for (const c of conns) c.ws.close(1000)
  const codes = await Promise.all(closed)
  assert.ok(codes.every(([code]) => code === 1000))
  await waitFor(async () => {
    const events = await (await fetch(`${served.url}/events?id=concurrent`)).json()
    return events.length === CONNECTIONS
  }, { timeoutMs: 15000, intervalMs: 100, message: `${CONNECTIONS} websocket.disconnect events` })
  const events = await (await fetch(`${served.url}/events?id=concurrent`)).json()
  assert.ok(events.every((e) => e.event === 'disconnect' && e.code === 1000))
})
