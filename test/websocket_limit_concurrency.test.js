'use strict'
// limitConcurrency counts open WebSockets: a handshake beyond the limit gets an immediate 503
// without reaching the app, and a slot frees up when a connection ends.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, waitFor } = require('./helpers')

let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_handshake:app', { limitConcurrency: 2 })
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

async function open (id) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/accept?id=${id}`)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  await once(ws, 'open')
  return ws
}

async function refused (id) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/accept?id=${id}`)
  clients.add(ws)
  ws.on('error', () => {})
  const [, res] = await once(ws, 'unexpected-response')
  res.resume()
  ws.terminate()
  return res.statusCode
}

test('a third WebSocket beyond limitConcurrency 2 gets 503 and never reaches the app', { timeout: 10000 }, async () => {
  const a = await open('a')
  const b = await open('b')
  assert.equal(await refused('c'), 503)
  // HTTP requests share the limit
  assert.equal((await fetch(`${served.url}/events?id=c`)).status, 503)

  const closed = once(a, 'close')
  a.close()
  await closed
  let d
  await waitFor(async () => {
    try {
      d = await open('d')
      return true
    } catch {
      return false
    }
  }, { message: 'a slot frees up after a close' })
  const echo = once(d, 'message')
  d.send('in')
  assert.equal((await echo)[0].toString(), 'in')
  const bothClosed = [once(b, 'close'), once(d, 'close')]
  b.close()
  d.close()
  await Promise.all(bothClosed)
  await waitFor(async () => (await fetch(`${served.url}/events?id=c`)).status === 200, { message: 'HTTP served again' })
  assert.deepEqual(await (await fetch(`${served.url}/events?id=c`)).json(), [], 'the refused handshake never reached the app')
})
