'use strict'
// uvicorn's error policy for WebSockets: an exception or a return before accepting answers 500;
// an exception after accepting closes with 1011; a return after accepting closes the connection;
// a misordered message makes send() raise RuntimeError naming what was expected.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const WebSocket = require('ws')
const { startWebSocketServer, rawRequest, parseResponse, waitFor } = require('./helpers')

let served
const appErrors = []
const clients = new Set()

before(async () => {
  served = await startWebSocketServer('ws_handshake:app')
  served.handler.on('appError', (err) => appErrors.push(err))
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
})

async function handshakeResponse (target) {
  const { data, ended } = await rawRequest(served.port,
    `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n', { timeoutMs: 5000 })
  const res = parseResponse(data)
  assert.ok(res, `no response head in ${JSON.stringify(data.toString('latin1'))}`)
  assert.equal(ended, true, 'the connection is closed after the 500')
  return res
}

/** Opens a client and collects its messages and close (code, reason) as they arrive. */
function connect (path) {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}${path}`)
  clients.add(ws)
  const messages = []
  ws.on('message', (data) => messages.push(data.toString()))
  const closed = once(ws, 'close').then(([code, reason]) => {
    clients.delete(ws)
    return { code, reason: reason.toString() }
  })
  return { ws, messages, closed }
}

test('an exception before websocket.accept answers 500 and is reported as appError', { timeout: 10000 }, async () => {
  const errorsBefore = appErrors.length
  const res = await handshakeResponse('/raise-before-accept')
  assert.equal(res.status, 500)
  assert.equal(res.headers.upgrade, undefined)
  assert.equal(res.body.toString(), 'Internal Server Error')
  await waitFor(() => appErrors.length > errorsBefore, { message: 'appError' })
  const error = appErrors[appErrors.length - 1]
  assert.equal(error.name, 'PythonError')
  assert.equal(error.type, 'ValueError')
  assert.equal(error.pythonMessage, 'boom before accept')
  assert.match(error.traceback, /raise ValueError\("boom before accept"\)/)
  assert.match(served.logger.text(), /Exception in ASGI application/)
})

test('a ws client sees the 500 as an unexpected response', { timeout: 10000 }, async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${served.port}/raise-before-accept`)
  clients.add(ws)
  ws.on('error', () => {})
  const [, res] = await once(ws, 'unexpected-response')
  assert.equal(res.statusCode, 500)
  res.resume()
  ws.terminate()
})

test('returning before websocket.accept answers 500 and logs it', { timeout: 10000 }, async () => {
  const res = await handshakeResponse('/return-before-accept')
  assert.equal(res.status, 500)
  assert.equal(res.body.toString(), 'Internal Server Error')
  await waitFor(() => served.logger.text().includes('ASGI callable returned without sending handshake.'), { message: 'log line' })
})

test('an exception after websocket.accept closes the connection with 1011', { timeout: 10000 }, async () => {
  const errorsBefore = appErrors.length
  const { messages, closed } = connect('/raise-after-accept')
  const { code } = await closed
  assert.equal(code, 1011)
  assert.deepEqual(messages, ['about to fail'], 'messages sent before the exception are delivered first')
  await waitFor(() => appErrors.length > errorsBefore, { message: 'appError' })
  assert.equal(appErrors[appErrors.length - 1].type, 'RuntimeError')
  assert.equal(appErrors[appErrors.length - 1].pythonMessage, 'boom after accept')
})

test('returning after websocket.accept without closing closes the connection (1000)', { timeout: 10000 }, async () => {
  const { messages, closed } = connect('/return-after-accept')
  const { code } = await closed
  assert.deepEqual(messages, ['returning now'])
  assert.equal(code, 1000)
})

test('websocket.send before websocket.accept raises RuntimeError naming the expected messages', { timeout: 10000 }, async () => {
  const id = `misordered-${Date.now()}`
  const res = await handshakeResponse(`/send-before-accept?id=${id}`)
  assert.equal(res.status, 403) // the fixture closes after catching the error
  const events = await (await fetch(`${served.url}/events?id=${id}`)).json()
  const caught = events.find((e) => e.event === 'caught')
  assert.ok(caught, `the app caught an exception: ${JSON.stringify(events)}`)
  assert.equal(caught.type, 'RuntimeError')
  assert.equal(caught.message,
    "Expected ASGI message 'websocket.accept', 'websocket.close' or 'websocket.http.response.start', but got 'websocket.send'.")
})

test('the handler keeps serving after app errors', { timeout: 10000 }, async () => {
  const { ws, messages, closed } = connect('/accept')
  await once(ws, 'open')
  ws.send('ok?')
  await waitFor(() => messages.length === 1, { message: 'echo' })
  assert.deepEqual(messages, ['ok?'])
  ws.close(1000)
  assert.equal((await closed).code, 1000)
})
