'use strict'
// Shared by the hub's tests: start the hub with the CLI, sign JWTs, connect socket.io-client, await events.
const crypto = require('node:crypto')
const path = require('node:path')
const { io } = require('socket.io-client')
const { startCli } = require('../../../test/helpers')

const HUB_DIR = path.resolve(__dirname, '..')
const SECRET = 'test-secret-for-the-socketio-hub'

// Extra CLI arguments for every hub the tests start, e.g. SOCKETIO_HUB_TEST_ARGS='--http node --loop asyncio'.
const EXTRA_ARGS = (process.env.SOCKETIO_HUB_TEST_ARGS || '').split(/\s+/).filter(Boolean)

/**
 * Starts the hub with `bin/node-asgi.js app:app --app-dir examples/socketio-hub --port 0 ...args`
 * and `env` on top of { JWT_SECRET: SECRET }. `track` (a Set) holds the child for an after-hook.
 * Resolves startCli()'s { child, port, url, stderr(), stop(), ... }.
 */
function startHub ({ env = {}, args = [], track = null, timeoutMs = 30000 } = {}) {
  return startCli(['app:app', '--app-dir', HUB_DIR, '--host', '127.0.0.1', '--port', '0', ...EXTRA_ARGS, ...args],
    { env: { JWT_SECRET: SECRET, ...env }, track, timeoutMs })
}

const base64url = (value) => Buffer.from(value).toString('base64url')

/** An HS256 JWT for `claims` (sub defaults to 'alice', exp to an hour from now). */
function signToken (claims = {}, { secret = SECRET, header = { alg: 'HS256', typ: 'JWT' } } = {}) {
  const body = { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600, ...claims }
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(body))}`
  const signature = crypto.createHmac('sha256', secret).update(unsigned).digest('base64url')
  return `${unsigned}.${signature}`
}

/**
 * Connects socket.io-client with its default transports (polling, then upgrade to WebSocket).
 * `auth` defaults to { token: signToken({ sub: user }) }. Resolves the connected socket, or rejects
 * with the connect_error (its .message is the server's reason, .data its details).
 */
function connectClient (url, { user = 'alice', auth, timeoutMs = 15000, ...options } = {}) {
  const socket = io(url, {
    auth: auth === undefined ? { token: signToken({ sub: user }) } : auth,
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
    ...options
  })
  return new Promise((resolve, reject) => {
    socket.once('connect', () => { socket.off('connect_error'); resolve(socket) })
    socket.once('connect_error', (err) => { socket.close(); reject(err) })
  })
}

/** Resolves the first `event` payload that `socket` receives (and satisfies `filter`), or rejects after `timeoutMs`. */
function nextEvent (socket, event, { timeoutMs = 15000, filter = () => true } = {}) {
  return new Promise((resolve, reject) => {
    const onEvent = (payload) => {
      if (!filter(payload)) return
      clearTimeout(timer)
      socket.off(event, onEvent)
      resolve(payload)
    }
    const timer = setTimeout(() => {
      socket.off(event, onEvent)
      reject(new Error(`no ${event} event within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.on(event, onEvent)
  })
}

/** Records every `event` payload `socket` receives from now on, in an array. */
function record (socket, event) {
  const received = []
  socket.on(event, (payload) => received.push(payload))
  return received
}

/** Emits `event` with `payload` and resolves the server's ack ({ ok, ... }). */
function ask (socket, event, payload, timeoutMs = 15000) {
  return socket.timeout(timeoutMs).emitWithAck(event, payload)
}

/** Resolves once the socket's transport is WebSocket (socket.io-client upgrades from polling on its own). */
function upgraded (socket, timeoutMs = 15000) {
  const engine = socket.io.engine
  if (engine.transport.name === 'websocket') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no upgrade to websocket within ${timeoutMs} ms`)), timeoutMs)
    engine.once('upgrade', () => { clearTimeout(timer); resolve() })
  })
}

module.exports = { HUB_DIR, SECRET, startHub, signToken, connectClient, nextEvent, record, ask, upgraded }
