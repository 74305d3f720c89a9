'use strict'
// FastAPI (Debian 0.92) WebSocket endpoints served by node-asgi: typed path and query parameters,
// receive_json/send_json, receive_text/receive_bytes, close with code and reason, a dependency
// raising WebSocketException (403 before accept), WebSocketDisconnect, next to HTTP routes.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { WebSocket: BrowserWebSocket } = require('undici')
const { startWebSocketServer, waitFor } = require('./helpers')

let served
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_fastapi_app:app')
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

/** Opens a client that queues its messages; `next()` resolves the next one as { data, isBinary }. */
function connect (path) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}${path}`)
  clients.add(ws)
  ws.on('close', () => clients.delete(ws))
  ws.on('error', () => {})
  const queue = []
  const waiters = []
  ws.on('message', (data, isBinary) => {
    const item = { data, isBinary }
    if (waiters.length) waiters.shift()(item)
    else queue.push(item)
  })
  const next = () => queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve) => waiters.push(resolve))
  return { ws, next }
}

test('HTTP routes work next to WebSocket routes', { timeout: 10000 }, async () => {
  const res = await fetch(`${served.url}/items/7`)
  assert.equal(res.status, 200)
  assert.deepEqual(await res.json(), { item_id: 7, via: 'http' })
})

test('typed path and query parameters, then receive_json/send_json in a loop', { timeout: 10000 }, async () => {
  const { ws, next } = connect('/ws/items/42?q=hello&id=items')
  const first = await next()
  assert.equal(first.isBinary, false)
  assert.deepEqual(JSON.parse(first.data), { item_id: 42, q: 'hello' })
  ws.send(JSON.stringify({ values: [1, 2, 3.5], note: 'ü' }))
  assert.deepEqual(JSON.parse((await next()).data), { item_id: 42, got: { values: [1, 2, 3.5], note: 'ü' }, total: 6.5 })
  ws.send(JSON.stringify({ values: [] }))
  assert.deepEqual(JSON.parse((await next()).data), { item_id: 42, got: { values: [] }, total: 0 })
  ws.close(4005, 'client done')
  await once(ws, 'close')
  await waitFor(async () => {
    const events = await (await fetch(`${served.url}/events?id=items`)).json()
    return events.some((e) => e.where === 'item_socket' && e.code === 4005)
  }, { message: 'WebSocketDisconnect(4005) recorded' })
})

test('a path parameter that fails validation closes the handshake with 403', { timeout: 10000 }, async () => {
  const { ws } = connect('/ws/items/not-a-number')
  const [, res] = await once(ws, 'unexpected-response')
  assert.equal(res.statusCode, 403)
  res.resume()
  ws.terminate()
})

test('a dependency raising WebSocketException refuses the handshake with 403', { timeout: 10000 }, async () => {
  const { ws } = connect('/ws/secure?token=wrong')
  const [, res] = await once(ws, 'unexpected-response')
  assert.equal(res.statusCode, 403)
  res.resume()
  ws.terminate()
})

test('a dependency that passes lets the endpoint accept, send and close with 1000', { timeout: 10000 }, async () => {
  const { ws, next } = connect('/ws/secure?token=secret')
  const closed = once(ws, 'close')
  assert.equal((await next()).data.toString(), 'welcome, token secret')
  assert.equal((await closed)[0], 1000)
})

test('receive_text/send_text then receive_bytes/send_bytes, then close(4002, reason)', { timeout: 10000 }, async () => {
  const { ws, next } = connect('/ws/text')
  await once(ws, 'open')
  const closed = once(ws, 'close')
  ws.send('stressed')
  const text = await next()
  assert.equal(text.isBinary, false)
  assert.equal(text.data.toString(), 'desserts')
  ws.send(Buffer.from('bin'))
  const bytes = await next()
  assert.equal(bytes.isBinary, true)
  assert.equal(bytes.data.toString(), 'bin!')
  const [code, reason] = await closed
  assert.equal(code, 4002)
  assert.equal(reason.toString(), 'done here')
})

test("undici's browser WebSocket talks JSON to a FastAPI endpoint", { timeout: 10000 }, async () => {
  const ws = new BrowserWebSocket(`ws://127.0.0.1:${served.port}/ws/items/5`)
  const messages = []
  let wake = null
  ws.onmessage = (event) => { messages.push(JSON.parse(event.data)); wake?.() }
  const nextMessage = async () => {
    while (messages.length === 0) await new Promise((resolve) => { wake = resolve })
    return messages.shift()
  }
  await new Promise((resolve, reject) => {
    ws.onopen = resolve
    ws.onerror = () => reject(new Error('undici WebSocket failed to open'))
  })
  assert.deepEqual(await nextMessage(), { item_id: 5, q: null })
  ws.send(JSON.stringify({ values: [10, 20] }))
  assert.deepEqual(await nextMessage(), { item_id: 5, got: { values: [10, 20] }, total: 30 })
  const closed = new Promise((resolve) => { ws.onclose = resolve })
  ws.close(1000)
  assert.equal((await closed).code, 1000)
})
