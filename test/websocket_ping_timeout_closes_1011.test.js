'use strict'
// Keepalive pings: the server pings every wsPingInterval; a client that answers stays connected,
// one that never answers is closed with 1011 after wsPingTimeout and the app sees the disconnect.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, waitFor, sleep } = require('./helpers')

let served
let quiet // wsPingInterval: 0
let patient // wsPingTimeout longer than wsPingInterval
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_echo:app', { wsPingInterval: 0.2, wsPingTimeout: 0.2 })
  quiet = await startWebSocketServer('ws_echo:app', { wsPingInterval: 0, wsPingTimeout: 0.2 })
  patient = await startWebSocketServer('ws_echo:app', { wsPingInterval: 0.2, wsPingTimeout: 0.5 })
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
  await quiet?.close()
  await patient?.close()
})

async function open (server, id, options) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/echo?id=${id}`, options)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  await once(ws, 'open')
  return ws
}

test('a client that never answers pings is closed with 1011 after the timeout', { timeout: 10000 }, async () => {
  const id = 'silent'
  const started = Date.now()
  const ws = await open(served, id, { autoPong: false })
  let pings = 0
  ws.on('ping', () => pings++)
  const [code, reason] = await once(ws, 'close')
  const elapsed = Date.now() - started
  assert.equal(code, 1011)
  assert.match(reason.toString(), /ping/i)
  assert.ok(pings >= 1, 'the server pinged')
  assert.ok(elapsed >= 350 && elapsed < 5000, `closed after ${elapsed} ms (interval 200 + timeout 200)`)
  let disconnect
  await waitFor(async () => {
    disconnect = (await (await fetch(`${served.url}/events?id=${id}`)).json()).find((e) => e.event === 'disconnect')
    return disconnect
  }, { message: 'the app sees websocket.disconnect' })
  assert.ok([1011, 1006].includes(disconnect.code), `app saw code ${disconnect.code}`)
})

test('a client that answers pings stays connected across many intervals', { timeout: 10000 }, async () => {
  const ws = await open(served, 'responsive')
  let pings = 0
  ws.on('ping', () => pings++)
  await sleep(1500)
  assert.equal(ws.readyState, WebSocket.OPEN)
  assert.ok(pings >= 4, `expected several pings in 1.5 s, got ${pings}`)
  const reply = once(ws, 'message')
  ws.send('alive')
  assert.equal((await reply)[0].toString(), 'alive')
  ws.close()
})

test('wsPingInterval 0 sends no pings, so a silent client is never closed', { timeout: 10000 }, async () => {
  const ws = await open(quiet, 'no-pings', { autoPong: false })
  let pings = 0
  ws.on('ping', () => pings++)
  await sleep(800)
  assert.equal(pings, 0)
  assert.equal(ws.readyState, WebSocket.OPEN)
  ws.close()
})

test('a silent client is closed with 1011 also when wsPingTimeout is longer than wsPingInterval', { timeout: 10000 }, async () => {
  // uvicorn/websockets: ping, wait up to ping_timeout for the pong, fail with 1011. Later pings
  // must not restart the wait for the first unanswered one.
  const ws = await open(patient, 'silent-patient', { autoPong: false })
  const started = Date.now()
  let pings = 0
  ws.on('ping', () => pings++)
  const outcome = await Promise.race([
    once(ws, 'close').then(([code]) => ({ code, elapsed: Date.now() - started })),
    sleep(3000).then(() => ({ code: null, elapsed: Date.now() - started }))
  ])
  assert.equal(outcome.code, 1011,
    `an unanswered ping must close the connection within interval + timeout (0.7 s); still open after ${outcome.elapsed} ms and ${pings} unanswered pings`)
})
