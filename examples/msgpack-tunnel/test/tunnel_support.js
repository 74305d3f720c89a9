'use strict'
// What the msgpack-tunnel tests share: the example served by the CLI (as the README runs it) and a
// MessagePack WebSocket client that queues decoded server messages and records how it was closed.
const path = require('node:path')
const { once } = require('node:events')
const WebSocket = require('ws')
const { encode, decode } = require('@msgpack/msgpack')
const { startCli } = require('../../../test/helpers')

const EXAMPLE = path.resolve(__dirname, '..')
const TOKENS = ['token-alpha', 'token-beta']
const MiB = 1024 * 1024
// The README's command line, with --port 0 and no access log.
const SERVER_ARGS = ['app:app', '--app-dir', EXAMPLE, '--ws-max-size', '1049600', '--ws-max-queue', '4',
  '--ws-per-message-deflate', 'false', '--port', '0', '--no-access-log']

/**
 * Starts the example with the CLI; `env` adds to (or, with undefined values, removes from) the
 * environment, which has TUNNEL_TOKENS set to TOKENS. `http` is the CLI's --http (default: the
 * native server). `track` is the test file's Set of children.
 */
function startTunnelServer ({ env = {}, http = 'native', track } = {}) {
  return startCli([...SERVER_ARGS, '--http', http], { env: { TUNNEL_TOKENS: TOKENS.join(','), ...env }, track })
}

/** GET /health: { status, connections, tunnels: { waiting, paired } }. */
async function health (server) {
  const res = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(5000) })
  return res.json()
}

/** A WebSocket client of the tunnel: `next()` resolves the next server message, decoded. */
class TunnelClient {
  static async connect (server, { clients } = {}) {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/tunnel`, { perMessageDeflate: false })
    const client = new TunnelClient(ws)
    clients?.add(ws)
    await once(ws, 'open')
    return client
  }

  constructor (ws) {
    this.ws = ws
    this.queue = [] // decoded messages not yet taken by next()
    this.waiting = null // { resolve, reject } of a pending next()
    this.closeInfo = null // { code, reason } once closed
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() }
        this.waiting?.reject(new Error(`closed (${code} ${this.closeInfo.reason}) while waiting for a message`))
        this.waiting = null
        resolve(this.closeInfo)
      })
    })
    ws.on('error', () => {}) // a reset shows as 'close' 1006
    ws.on('message', (data, isBinary) => {
      const message = isBinary ? decode(data) : { type: 'TEXT FRAME', text: data.toString() }
      if (this.waiting) {
        this.waiting.resolve(message)
        this.waiting = null
      } else {
        this.queue.push(message)
      }
    })
  }

  /** Sends `value` MessagePack-encoded in a binary frame; resolves when written. */
  send (value) {
    return this.sendRaw(encode(value))
  }

  /** Sends a Buffer (binary frame) or a string (text frame) as is. */
  sendRaw (data) {
    return new Promise((resolve) => this.ws.send(data, () => resolve()))
  }

  /** The next server message, or a rejection if the connection closes or `timeoutMs` passes first. */
  next ({ timeoutMs = 10000 } = {}) {
    if (this.queue.length) return Promise.resolve(this.queue.shift())
    if (this.closeInfo) return Promise.reject(new Error(`closed (${this.closeInfo.code} ${this.closeInfo.reason})`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiting = null; reject(new Error(`no message within ${timeoutMs} ms`)) }, timeoutMs)
      this.waiting = {
        resolve: (message) => { clearTimeout(timer); resolve(message) },
        reject: (err) => { clearTimeout(timer); reject(err) }
      }
    })
  }

  /** The close code and reason; rejects if the server has not closed within `timeoutMs`. */
  async closedWithin (timeoutMs = 10000) {
    let timer
    const timeout = new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs) })
    try {
      return await Promise.race([this.closed, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  async auth (token = TOKENS[0]) {
    await this.send({ type: 'auth', token })
    return this.next()
  }

  /** Opens a tunnel; resolves its id. */
  async open () {
    await this.send({ type: 'open' })
    const reply = await this.next()
    if (reply.type !== 'opened') throw new Error(`expected 'opened', got ${JSON.stringify(reply)}`)
    return reply.tunnel
  }

  async join (tunnel) {
    await this.send({ type: 'join', tunnel })
    return this.next()
  }

  /** Resolves the payload (a Buffer) of the next message, which must be 'data'. */
  async nextData (options) {
    const message = await this.next(options)
    if (message.type !== 'data') throw new Error(`expected 'data', got ${JSON.stringify(message).slice(0, 200)}`)
    return Buffer.from(message.payload.buffer, message.payload.byteOffset, message.payload.byteLength)
  }

  sendData (payload) {
    return this.send({ type: 'data', payload })
  }
}

/** Two authenticated clients paired in a new tunnel: { a (the opener), b (the joiner), tunnel }. */
async function pair (server, { clients } = {}) {
  const a = await TunnelClient.connect(server, { clients })
  const b = await TunnelClient.connect(server, { clients })
  await expectType(a.auth(TOKENS[0]), 'authenticated')
  await expectType(b.auth(TOKENS[1]), 'authenticated')
  const tunnel = await a.open()
  const joined = await b.join(tunnel)
  if (joined.type !== 'paired' || joined.tunnel !== tunnel) throw new Error(`join: ${JSON.stringify(joined)}`)
  const paired = await a.next()
  if (paired.type !== 'paired' || paired.tunnel !== tunnel) throw new Error(`opener: ${JSON.stringify(paired)}`)
  return { a, b, tunnel }
}

async function expectType (promise, type) {
  const message = await promise
  if (message.type !== type) throw new Error(`expected '${type}', got ${JSON.stringify(message)}`)
  return message
}

/** `size` bytes derived from `seed` (different for every seed), to check forwarded bytes exactly. */
function patterned (seed, size) {
  const bytes = Buffer.alloc(size)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0
    bytes[i] = x & 0xff
  }
  return bytes
}

module.exports = { TOKENS, MiB, SERVER_ARGS, startTunnelServer, health, TunnelClient, pair, expectType, patterned }
