'use strict'
// GET /health (status, uptime, version) from the Starlette app beside Socket.IO, and CORS_ORIGINS: a polling
// handshake or WebSocket from an Origin not in the list is refused, listed origins get the CORS headers.
const test = require('node:test')
const assert = require('node:assert/strict')
const WebSocket = require('ws')
const { startHub, connectClient } = require('./hub_support')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

const ALLOWED = 'https://app.example.com'
let hub
test.before(async () => {
  hub = await startHub({ track: children, env: { CORS_ORIGINS: `${ALLOWED}, http://localhost:3000`, APP_VERSION: '2.5.0' } })
})
test.after(() => hub?.stop())

const HANDSHAKE = '/socket.io/?EIO=4&transport=polling'
const get = (path, headers = {}) => fetch(hub.url + path, { headers, signal: AbortSignal.timeout(10000) })

test('GET /health answers JSON {status, uptime, version}', async () => {
  const res = await get('/health')
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type'), /^application\/json/)
  const body = await res.json()
  assert.deepEqual(Object.keys(body).sort(), ['status', 'uptime', 'version'])
  assert.equal(body.status, 'ok')
  assert.equal(body.version, '2.5.0')
  assert.equal(typeof body.uptime, 'number')
  assert.ok(body.uptime >= 0)
  const later = await (await get('/health')).json()
  assert.ok(later.uptime >= body.uptime)
})

test('other paths go to the Starlette app: 404', async () => {
  const res = await get('/nope')
  assert.equal(res.status, 404)
  await res.arrayBuffer()
})

test('a polling handshake from an Origin not in CORS_ORIGINS is refused with 400 naming the origin', async () => {
  const res = await get(HANDSHAKE, { Origin: 'https://evil.example' })
  assert.equal(res.status, 400)
  assert.match(await res.text(), /https:\/\/evil\.example is not an accepted origin/)
})

test('a polling handshake from an allowed Origin opens a session with the CORS headers', async () => {
  for (const origin of [ALLOWED, 'http://localhost:3000']) {
    const res = await get(HANDSHAKE, { Origin: origin })
    assert.equal(res.status, 200, origin)
    assert.equal(res.headers.get('access-control-allow-origin'), origin)
    const text = await res.text()
    assert.match(text, /^0\{"sid":"[^"]+"/)
  }
})

test('a WebSocket from an Origin not in CORS_ORIGINS is refused (403)', async () => {
  const status = await new Promise((resolve, reject) => {
    const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, { origin: 'https://evil.example' })
    ws.on('unexpected-response', (req, res) => { res.resume(); resolve(res.statusCode) })
    ws.on('open', () => { ws.close(); reject(new Error('the WebSocket was accepted')) })
    ws.on('error', reject)
  })
  assert.equal(status, 403)
})

test('socket.io-client sending a disallowed Origin gets connect_error; an allowed one connects', async (t) => {
  const err = await connectClient(hub.url, { extraHeaders: { Origin: 'https://evil.example' } }).then(
    (socket) => { socket.close(); throw new Error('connected') }, (error) => error)
  assert.equal(err.message, 'xhr poll error')
  assert.equal(err.context?.status, 400)
  const socket = await connectClient(hub.url, { extraHeaders: { Origin: ALLOWED } })
  t.after(() => socket.close())
  assert.equal(socket.connected, true)
})

test('CORS_ORIGINS=* accepts any Origin', async (t) => {
  const open = await startHub({ track: children, env: { CORS_ORIGINS: '*' } })
  t.after(() => open.stop())
  const res = await fetch(open.url + HANDSHAKE, { headers: { Origin: 'https://anything.example' }, signal: AbortSignal.timeout(10000) })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://anything.example')
  await res.arrayBuffer()
})
