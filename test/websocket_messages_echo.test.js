'use strict'
// Text and binary messages reach the app as websocket.receive text/bytes and come back with the
// same frame type: empty, non-ASCII, 1 MiB, with and without permessage-deflate, from `ws` and
// from undici's browser-style WebSocket.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const crypto = require('node:crypto')
const WebSocket = require('ws')
const { WebSocket: BrowserWebSocket } = require('undici')
const { startWebSocketServer } = require('./helpers')

let served
let plain // wsPerMessageDeflate: false
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_echo:app')
  plain = await startWebSocketServer('ws_echo:app', { wsPerMessageDeflate: false })
})

after(async () => {
  for (const ws of clients) {
    if (typeof ws.terminate === 'function') ws.terminate()
    else ws.close()
  }
  await served?.close()
  await plain?.close()
})

async function open (server = served, options = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/echo`, options)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  await once(ws, 'open')
  return ws
}

/** Sends `data` and resolves the echo as { data: Buffer, isBinary }. */
async function roundTrip (ws, data, options) {
  const reply = once(ws, 'message')
  ws.send(data, options)
  const [received, isBinary] = await reply
  return { data: received, isBinary }
}

test('a text message comes back as a text frame with the same text', { timeout: 10000 }, async () => {
  const ws = await open()
  const echo = await roundTrip(ws, 'hello, asgi')
  assert.equal(echo.isBinary, false)
  assert.equal(echo.data.toString('utf8'), 'hello, asgi')
  ws.close()
})

test('a binary message comes back as a binary frame with the same bytes', { timeout: 10000 }, async () => {
  const ws = await open()
  const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x7f, 0])
  const echo = await roundTrip(ws, bytes)
  assert.equal(echo.isBinary, true)
  assert.deepEqual(echo.data, bytes)
  ws.close()
})

test('empty text and empty binary messages keep their frame type', { timeout: 10000 }, async () => {
  const ws = await open()
  const text = await roundTrip(ws, '')
  assert.equal(text.isBinary, false)
  assert.equal(text.data.length, 0)
  const binary = await roundTrip(ws, Buffer.alloc(0))
  assert.equal(binary.isBinary, true)
  assert.equal(binary.data.length, 0)
  ws.close()
})

test('non-ASCII text (accents, CJK, emoji, astral plane, NUL) round-trips exactly', { timeout: 10000 }, async () => {
  const ws = await open()
  for (const text of ['café', 'naïve façade', '日本語のテキスト', '🎉👩‍👩‍👧‍👦🚀', '\u0000nul\u0000', 'Ω≈ç√∫ \u{10FFFF}', 'é'.repeat(70000)]) {
    const echo = await roundTrip(ws, text)
    assert.equal(echo.isBinary, false)
    assert.equal(echo.data.toString('utf8'), text)
  }
  ws.close()
})

test('binary bytes that are not valid UTF-8 stay binary and unchanged', { timeout: 10000 }, async () => {
  const ws = await open()
  const bytes = Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc])
  const echo = await roundTrip(ws, bytes)
  assert.equal(echo.isBinary, true)
  assert.deepEqual(echo.data, bytes)
  ws.close()
})

test('messages on one connection come back in the order sent, frame types interleaved', { timeout: 10000 }, async () => {
  const ws = await open()
  const replies = []
  ws.on('message', (data, isBinary) => replies.push({ text: isBinary ? null : data.toString(), bytes: isBinary ? data : null }))
  const count = 200
  for (let i = 0; i < count; i++) ws.send(i % 2 ? Buffer.from([i & 0xff, i >> 8]) : `text ${i}`)
  const deadline = Date.now() + 8000
  while (replies.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.equal(replies.length, count)
  for (let i = 0; i < count; i++) {
    if (i % 2) assert.deepEqual(replies[i].bytes, Buffer.from([i & 0xff, i >> 8]), `reply ${i}`)
    else assert.equal(replies[i].text, `text ${i}`, `reply ${i}`)
  }
  ws.close()
})

test('a 1 MiB binary message round-trips intact (permessage-deflate negotiated)', { timeout: 20000 }, async () => {
  const ws = await open()
  assert.match(ws.extensions, /permessage-deflate/)
  const big = crypto.randomBytes(1024 * 1024)
  const echo = await roundTrip(ws, big)
  assert.equal(echo.isBinary, true)
  assert.equal(echo.data.length, big.length)
  assert.ok(echo.data.equals(big), '1 MiB echo differs')
  ws.close()
})

test('a 1 MiB binary message round-trips intact without compression', { timeout: 20000 }, async () => {
  const ws = await open(plain)
  assert.equal(ws.extensions, '')
  const big = crypto.randomBytes(1024 * 1024)
  const echo = await roundTrip(ws, big)
  assert.equal(echo.isBinary, true)
  assert.ok(echo.data.equals(big), '1 MiB echo differs')
  // A fragmented 1 MiB text message is reassembled before the app sees it.
  const text = 'ü'.repeat(512 * 1024)
  const reply = once(ws, 'message')
  ws.send(text.slice(0, 100000), { fin: false })
  ws.send(text.slice(100000), { fin: true })
  const [data, isBinary] = await reply
  assert.equal(isBinary, false)
  assert.equal(data.toString('utf8'), text)
  ws.close()
})

test("undici's browser WebSocket gets strings for text and ArrayBuffers for binary", { timeout: 10000 }, async () => {
  const ws = new BrowserWebSocket(`ws://127.0.0.1:${served.port}/echo`)
  clients.add(ws)
  ws.binaryType = 'arraybuffer'
  await new Promise((resolve, reject) => {
    ws.onopen = resolve
    ws.onerror = () => reject(new Error('undici WebSocket failed to open'))
  })
  const next = () => new Promise((resolve) => { ws.onmessage = (event) => resolve(event.data) })
  let reply = next()
  ws.send('grüße 👋')
  assert.equal(await reply, 'grüße 👋')
  reply = next()
  ws.send(new Uint8Array([9, 8, 7, 0, 255]))
  const data = await reply
  assert.ok(data instanceof ArrayBuffer, `expected an ArrayBuffer, got ${Object.prototype.toString.call(data)}`)
  assert.deepEqual([...new Uint8Array(data)], [9, 8, 7, 0, 255])
  const closed = new Promise((resolve) => { ws.onclose = resolve })
  ws.close(1000, 'bye')
  const event = await closed
  assert.equal(event.code, 1000)
  assert.equal(event.wasClean, true)
  clients.delete(ws)
})
