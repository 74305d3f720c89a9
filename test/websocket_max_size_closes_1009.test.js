'use strict'
// wsMaxSize: a message up to the limit is delivered; one byte more (text, binary, fragmented or
// compressed) closes the connection with 1009 and the app sees the connection end.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, waitFor } = require('./helpers')

const LIMIT = 1024
let served
let nextId = 0
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_echo:app', { wsMaxSize: LIMIT })
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

async function open (id, options) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/echo?id=${id}`, options)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  ws.on('error', () => {})
  await once(ws, 'open')
  return ws
}

async function disconnectOf (id) {
  let found
  await waitFor(async () => {
    found = (await (await fetch(`${served.url}/events?id=${id}`)).json()).find((e) => e.event === 'disconnect')
    return found
  }, { message: `disconnect for ${id}` })
  return found
}

test('messages of exactly wsMaxSize bytes are delivered and echoed', { timeout: 10000 }, async () => {
  const ws = await open(`limit-${nextId++}`, { perMessageDeflate: false })
  let reply = once(ws, 'message')
  ws.send(Buffer.alloc(LIMIT, 7))
  assert.equal((await reply)[0].length, LIMIT)
  reply = once(ws, 'message')
  ws.send('é'.repeat(LIMIT / 2)) // 1024 bytes of UTF-8
  assert.equal((await reply)[0].toString(), 'é'.repeat(LIMIT / 2))
  ws.close()
})

test('a binary message one byte over wsMaxSize closes with 1009', { timeout: 10000 }, async () => {
  const id = `over-binary-${nextId++}`
  const ws = await open(id, { perMessageDeflate: false })
  ws.send(Buffer.alloc(LIMIT + 1, 1))
  const [code] = await once(ws, 'close')
  assert.equal(code, 1009)
  const disconnect = await disconnectOf(id)
  assert.ok([1009, 1006].includes(disconnect.code), `app saw websocket.disconnect ${disconnect.code}`)
})

test('a text message over wsMaxSize closes with 1009', { timeout: 10000 }, async () => {
  const ws = await open(`over-text-${nextId++}`, { perMessageDeflate: false })
  ws.send('x'.repeat(LIMIT * 4))
  const [code] = await once(ws, 'close')
  assert.equal(code, 1009)
})

test('a fragmented message whose fragments add up to more than wsMaxSize closes with 1009', { timeout: 10000 }, async () => {
  const ws = await open(`over-fragments-${nextId++}`, { perMessageDeflate: false })
  ws.send(Buffer.alloc(600), { fin: false })
  ws.send(Buffer.alloc(600), { fin: true })
  const [code] = await once(ws, 'close')
  assert.equal(code, 1009)
})

test('a compressed message that inflates past wsMaxSize closes with 1009', { timeout: 10000 }, async () => {
  const ws = await open(`over-deflate-${nextId++}`, { perMessageDeflate: { threshold: 0 } })
  assert.match(ws.extensions, /permessage-deflate/)
  ws.send('a'.repeat(LIMIT * 8), { compress: true }) // a few dozen bytes on the wire
  const [code] = await once(ws, 'close')
  assert.equal(code, 1009)
})

test('other connections are unaffected by one that exceeded the limit', { timeout: 10000 }, async () => {
  const good = await open(`good-${nextId++}`)
  const bad = await open(`bad-${nextId++}`)
  bad.send(Buffer.alloc(LIMIT * 2))
  assert.equal((await once(bad, 'close'))[0], 1009)
  const reply = once(good, 'message')
  good.send('still here')
  assert.equal((await reply)[0].toString(), 'still here')
  good.close()
})
