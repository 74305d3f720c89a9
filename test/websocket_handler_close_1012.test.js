'use strict'
// handler.close() with WebSockets open: every client sees close 1012 (service restart), the app
// sees websocket.disconnect 1012 (recorded to a file, since HTTP is no longer served), close()
// resolves promptly, and later handshakes are refused with 503 (node:http, whose server outlives the
// handler) or find nothing listening (handler.listen()'s server closes with the handler).
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { once } = require('node:events')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const WebSocket = require('ws')
const { startWebSocketServer, rawRequest, parseResponse, waitFor, sleep, native } = require('./helpers')

const CONNECTIONS = 20
let served
let dir
const clients = new Set()

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-ws-close-'))
  served = await startWebSocketServer('ws_close:app', { timeoutGracefulShutdown: 10 })
})

after(async () => {
  for (const ws of clients) ws.terminate()
  await served?.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('close() closes every open WebSocket with 1012 and the app sees websocket.disconnect 1012', { timeout: 20000 }, async () => {
  const log = path.join(dir, 'events.jsonl')
  const conns = await Promise.all(Array.from({ length: CONNECTIONS }, async (_, i) => {
    const ws = new WebSocket(`ws://127.0.0.1:${served.port}/wait?id=c${i}&log=${encodeURIComponent(log)}`)
    clients.add(ws)
    ws.on('close', () => clients.delete(ws))
    await once(ws, 'open')
    // one round trip, so each app task is inside receive() when the handler closes
    const echo = once(ws, 'message')
    ws.send(`hi ${i}`)
    await echo
    return ws
  }))

  const closes = conns.map((ws) => once(ws, 'close').then(([code, reason]) => ({ code, reason: reason.toString() })))
  const started = Date.now()
  await served.handler.close()
  const elapsed = Date.now() - started
  assert.ok(elapsed < 5000, `close() took ${elapsed} ms with well-behaved apps (graceful timeout 10 s)`)
  assert.equal(served.handler.state, 'closed')

  for (const { code } of await Promise.all(closes)) assert.equal(code, 1012)

  const events = fs.readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  const disconnects = events.filter((e) => e.event === 'disconnect')
  assert.equal(disconnects.length, CONNECTIONS, `events: ${JSON.stringify(events)}`)
  for (const d of disconnects) assert.equal(d.code, 1012)
  // The app's own send() after that raised, as after any close.
  const late = events.filter((e) => e.event === 'send_after_disconnect')
  assert.equal(late.length, CONNECTIONS)
  assert.ok(late.every((e) => e.raised && e.is_oserror))
})

test('a handshake after close() is refused with 503 (or nothing listens any more)', { timeout: 10000 }, async () => {
  const { data, error } = await rawRequest(served.port,
    'GET /wait HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n', { timeoutMs: 5000 })
  if (native) {
    assert.equal(served.server.listening, false)
    assert.equal(error?.code, 'ECONNREFUSED')
    return
  }
  const res = parseResponse(data)
  assert.ok(res, `no response head in ${JSON.stringify(data.toString('latin1'))}`)
  assert.equal(res.status, 503)
})

test('an app that ignores the disconnect is cancelled after timeoutGracefulShutdown', { timeout: 15000 }, async () => {
  const stubborn = await startWebSocketServer('ws_flow:app', { timeoutGracefulShutdown: 0.5 })
  try {
    // /slow-reader waits for a resume that never comes: it does not call receive() again.
    const ws = new WebSocket(`ws://127.0.0.1:${stubborn.port}/slow-reader?id=stubborn&count=1`)
    clients.add(ws)
    await once(ws, 'open')
    const closed = once(ws, 'close')
    const started = Date.now()
    await stubborn.handler.close()
    const elapsed = Date.now() - started
    assert.equal((await closed)[0], 1012)
    assert.ok(elapsed >= 400 && elapsed < 5000, `close() took ${elapsed} ms with a 0.5 s graceful timeout`)
    assert.match(stubborn.logger.text(), /Cancel 1 running task\(s\), timeout graceful shutdown exceeded/)
  } finally {
    await stubborn.close()
  }
})

test('a handshake the app accepts after close() began is closed with 1012 (or refused), not left open', { timeout: 15000 }, async () => {
  const late = await startWebSocketServer('ws_handshake:app', { timeoutGracefulShutdown: 3 })
  try {
    // The app sleeps 0.3 s before accepting, then waits in receive().
    const ws = new WebSocket(`ws://127.0.0.1:${late.port}/delayed-accept?id=late&delay=0.3`)
    clients.add(ws)
    ws.on('error', () => {})
    const outcome = new Promise((resolve) => {
      ws.on('unexpected-response', (req, res) => { res.resume(); resolve({ refused: res.statusCode }) })
      ws.on('close', (code) => resolve({ closed: code }))
    })
    await waitFor(async () => (await (await fetch(`${late.url}/events?id=late`)).json()).some((e) => e.event === 'connect'),
      { message: 'the app got websocket.connect' })
    const started = Date.now()
    await late.handler.close()
    const elapsed = Date.now() - started
    // By the time close() resolved (plus a moment for the close frame), the client must know.
    const result = await Promise.race([outcome, sleep(500).then(() => ({ readyState: ws.readyState, open: ws.readyState === WebSocket.OPEN }))])
    assert.ok(result.refused === 503 || result.closed === 1012,
      `expected a 503 or a close with 1012; got ${JSON.stringify(result)} (close() took ${elapsed} ms)`)
  } finally {
    for (const ws of clients) ws.terminate()
    await late.close()
  }
})

