'use strict'
// MessagePack over binary frames: JS encodes with @msgpack/msgpack, a Python app unpacks with
// msgpack, modifies and repacks, and the reply decodes to the expected structure.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const crypto = require('node:crypto')
const WebSocket = require('ws')
const { encode, decode } = require('@msgpack/msgpack')
const { startWebSocketServer } = require('./helpers')

let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_msgpack:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

async function open () {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/rpc`)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  await once(ws, 'open')
  return ws
}

async function call (ws, value) {
  const reply = once(ws, 'message')
  ws.send(encode(value, { useBigInt64: true }))
  const [data, isBinary] = await reply
  assert.equal(isBinary, true, 'MessagePack replies are binary frames')
  return decode(data, { useBigInt64: true })
}

test('a MessagePack map is unpacked, modified and repacked by the app', { timeout: 10000 }, async () => {
  const ws = await open()
  const blob = new Uint8Array([0, 1, 2, 3, 250, 255])
  const request = { text: 'grüße, 世界 🎉', blob, a: 1, b: 2.5, c: -7, flag: true, nothing: null, list: [1, 'two', [3]], nested: { deep: { deeper: 'x' } }, seq: 41 }
  const reply = await call(ws, request)
  assert.equal(reply.type, 'dict')
  assert.deepEqual(reply.keys, Object.keys(request).sort())
  assert.equal(reply.sum, 1 + 2.5 - 7 + 41) // ints and floats; True is not counted
  assert.equal(reply.text_upper, 'GRÜSSE, 世界 🎉')
  assert.equal(reply.text_codepoints, [...'grüße, 世界 🎉'].length)
  assert.equal(reply.next_seq, 42)
  assert.equal(reply.blob_len, 6)
  assert.ok(reply.blob_reversed instanceof Uint8Array, 'bytes come back as MessagePack bin')
  assert.deepEqual([...reply.blob_reversed], [255, 250, 3, 2, 1, 0])
  // The echoed request survived both codecs unchanged (only 64-bit ints decode as bigint)
  const echo = reply.echo
  assert.equal(echo.text, request.text)
  assert.deepEqual([...echo.blob], [...blob])
  assert.equal(echo.b, 2.5)
  assert.equal(echo.flag, true)
  assert.equal(echo.nothing, null)
  assert.deepEqual(echo.list, [1, 'two', [3]])
  assert.deepEqual(echo.nested, { deep: { deeper: 'x' } })
  ws.close()
})

test('64-bit integers, floats and large bins survive the round trip', { timeout: 10000 }, async () => {
  const ws = await open()
  const blob = crypto.randomBytes(300000)
  const request = { big: 2n ** 62n, negative: -(2n ** 40n), unsigned: 2n ** 64n - 1n, pi: Math.PI, tiny: 5e-324, blob }
  const reply = await call(ws, request)
  assert.equal(reply.echo.big, 2n ** 62n)
  assert.equal(reply.echo.negative, -(2n ** 40n))
  assert.equal(reply.echo.unsigned, 2n ** 64n - 1n)
  assert.equal(reply.echo.pi, Math.PI)
  assert.equal(reply.echo.tiny, 5e-324)
  assert.equal(reply.blob_len, 300000)
  assert.ok(Buffer.from(reply.echo.blob).equals(blob), 'large bin echoed intact')
  assert.ok(Buffer.from(reply.blob_reversed).equals(Buffer.from(blob).reverse()), 'large bin reversed by the app')
  ws.close()
})

test('non-map values and a stream of messages keep their order', { timeout: 10000 }, async () => {
  const ws = await open()
  assert.deepEqual(await call(ws, [1, 2, 3]), { echo: [1, 2, 3], type: 'list' })
  assert.deepEqual(await call(ws, 'just a string'), { echo: 'just a string', type: 'str' })
  assert.deepEqual(await call(ws, null), { echo: null, type: 'NoneType' })
  const replies = []
  ws.on('message', (data) => replies.push(decode(data)))
  for (let seq = 0; seq < 100; seq++) ws.send(encode({ seq }))
  const deadline = Date.now() + 5000
  while (replies.length < 100 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.deepEqual(replies.map((r) => r.next_seq), Array.from({ length: 100 }, (_, i) => i + 1))
  ws.close()
})

test('a text frame to the MessagePack app closes the connection with 1003 and the reason', { timeout: 10000 }, async () => {
  const ws = await open()
  ws.send('not msgpack')
  const [code, reason] = await once(ws, 'close')
  assert.equal(code, 1003)
  assert.equal(reason.toString(), 'binary MessagePack frames only')
})
