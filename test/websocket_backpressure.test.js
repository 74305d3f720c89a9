'use strict'
// Backpressure both ways. Inbound: an app that stops receiving makes the server stop reading
// after wsMaxQueue messages, so the client's unsent data piles up on the client (not in the
// server) and every message arrives in order once the app resumes. Outbound: the app's send()
// waits while a client is not reading, and resumes when it reads again.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, waitFor, sleep } = require('./helpers')

const MiB = 1024 * 1024
let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_flow:app', { wsMaxQueue: 4, wsPerMessageDeflate: false })
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

async function open (path) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}${path}`, { perMessageDeflate: false })
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  await once(ws, 'open')
  return ws
}

/** Polls `read()` until it returns the same value `stableMs` in a row (bounded); returns it. */
async function settle (read, { stableMs = 400, timeoutMs = 5000 } = {}) {
  const deadline = Date.now() + timeoutMs
  let last = await read()
  let since = Date.now()
  while (Date.now() < deadline) {
    await sleep(50)
    const value = await read()
    if (value !== last) {
      last = value
      since = Date.now()
    } else if (Date.now() - since >= stableMs) {
      break
    }
  }
  return last
}

test('an app that stops receiving pauses reading: data stays on the client, then all arrives in order', { timeout: 30000 }, async () => {
  const count = 256
  const size = 128 * 1024 // 32 MiB in all
  const ws = await open(`/slow-reader?id=slow&count=${count}`)
  const summary = once(ws, 'message')
  let sendsCompleted = 0
  for (let seq = 0; seq < count; seq++) {
    const message = Buffer.alloc(size, seq & 0xff)
    message.writeUInt32BE(seq, 0)
    ws.send(message, () => sendsCompleted++)
  }
  // The server reads at most wsMaxQueue messages ahead of the app plus what the kernel buffers:
  // most of the 32 MiB must still be waiting on the client side.
  const buffered = await settle(() => ws.bufferedAmount)
  assert.ok(buffered > 16 * MiB,
    `server kept reading while the app was not receiving: only ${(buffered / MiB).toFixed(1)} MiB left unsent of 32`)
  assert.ok(sendsCompleted < count / 2, `${sendsCompleted} of ${count} sends completed while the app was not receiving`)

  // The app resumes receiving: everything arrives, in order, and the client's buffer drains.
  const res = await fetch(`${served.url}/resume?id=slow`, { method: 'POST' })
  assert.equal(res.status, 200)
  const [data] = await summary
  assert.deepEqual(JSON.parse(data.toString()), { received: count, in_order: true, bytes: count * size })
  await waitFor(() => ws.bufferedAmount === 0 && sendsCompleted === count, { message: 'client buffer drained' })
  ws.close()
})

test("the app's send() waits while the client does not read, and resumes when it reads", { timeout: 30000 }, async () => {
  const count = 200
  const size = 128 * 1024 // 25 MiB in all
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/fast-writer?id=fast&count=${count}&size=${size}`, { perMessageDeflate: false })
  clients.add(ws)
  const received = []
  let done = false
  ws.on('message', (data, isBinary) => {
    if (isBinary) received.push({ seq: data.readUInt32BE(0), length: data.length })
    else if (data.toString() === 'done') done = true
  })
  const opened = once(ws, 'open')
  ws.on('open', () => ws.pause()) // stop reading from the socket before the first message arrives
  await opened

  const progress = async () => (await (await fetch(`${served.url}/progress?id=fast`)).json()).sent
  const stalledAt = await settle(progress)
  assert.ok(stalledAt < count / 2, `the app completed ${stalledAt} of ${count} sends to a client that reads nothing`)
  await sleep(300)
  assert.equal(await progress(), stalledAt, 'send() stays blocked while the client is paused')

  ws.resume()
  await waitFor(() => done, { timeoutMs: 20000, message: 'all messages and "done"' })
  assert.equal(received.length, count)
  assert.ok(received.every((m, i) => m.seq === i && m.length === size), 'messages arrive complete and in order')
  assert.deepEqual(await (await fetch(`${served.url}/progress?id=fast`)).json(), { sent: count, done: true })
  ws.close()
})

test('a send() waiting on a client that stops reading and then vanishes raises an OSError', { timeout: 20000 }, async () => {
  const count = 200
  const size = 128 * 1024
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/fast-writer?id=vanish&count=${count}&size=${size}`, { perMessageDeflate: false })
  clients.add(ws)
  const opened = once(ws, 'open')
  ws.on('open', () => ws.pause())
  await opened
  const progress = async () => (await fetch(`${served.url}/progress?id=vanish`)).json()
  const stalled = await settle(async () => (await progress()).sent)
  assert.ok(stalled < count, 'the app is blocked in send()')
  ws.terminate()
  const final = await waitFor(async () => { const p = await progress(); return p.error ? p : null }, { message: 'send() raised' })
  assert.equal(final.error, 'ClientDisconnected')
  assert.equal(final.done, false)
})
