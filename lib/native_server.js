'use strict'
// The server `handler.listen()` returns: a native HTTP/1.1 + WebSocket server (src/server/, on
// Node's own event loop, libuv + llhttp) whose requests reach the app with no JavaScript per
// request. This object only covers its lifecycle: listen, address, close, events. JS thread.
const { EventEmitter } = require('node:events')
const fs = require('node:fs')
const net = require('node:net')
const { describe, HTTP_TOKEN, UNSAFE_HEADER_VALUE } = require('./options')

const DEFAULTS = Object.freeze({
  port: 8000,
  host: '127.0.0.1',
  path: undefined, // a Unix socket instead of host/port
  fd: undefined, // an inherited listening socket (systemd style) instead of host/port
  defaultHeaders: [], // [[name, value], ...] sent unless the app sends the same name
  backlog: 2048,
  timeoutKeepAlive: 5,
  timeoutHeaders: 30,
  maxHeaderSize: 16384,
  serverHeader: 'node-asgi',
  dateHeader: true,
  accessLog: false
})

/** Validates listen() options; every error names the option. */
function normalizeListenOptions (options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`node-asgi: listen() expects an options object such as { port: 8000 }, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!(key in DEFAULTS)) throw new TypeError(`node-asgi: unknown listen() option '${key}' (known: ${Object.keys(DEFAULTS).join(', ')})`)
  }
  const o = { ...DEFAULTS }
  for (const [key, value] of Object.entries(options)) if (value !== undefined) o[key] = value
  const fail = (name, expected) => new TypeError(`node-asgi: listen() option '${name}' must be ${expected}, got ${describe(o[name])}`)
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw fail('port', 'an integer 0..65535 (0: any free port)')
  if (typeof o.host !== 'string' || o.host === '') throw fail('host', 'an IPv4 or IPv6 address such as "127.0.0.1"')
  if (o.host === 'localhost') o.host = '127.0.0.1'
  if (o.path !== undefined && (typeof o.path !== 'string' || o.path === '')) throw fail('path', 'a Unix socket path')
  if (o.fd !== undefined && (!Number.isInteger(o.fd) || o.fd < 0)) throw fail('fd', 'a file descriptor number')
  if (o.path !== undefined && o.fd !== undefined) throw new TypeError("node-asgi: listen() options 'path' and 'fd' cannot be used together")
  if (!Array.isArray(o.defaultHeaders) || !o.defaultHeaders.every((h) => Array.isArray(h) && h.length === 2 &&
      typeof h[0] === 'string' && HTTP_TOKEN.test(h[0]) && typeof h[1] === 'string' && !UNSAFE_HEADER_VALUE.test(h[1]))) {
    throw fail('defaultHeaders', 'an array of [name, value] string pairs with valid header names and values')
  }
  if (!Number.isInteger(o.backlog) || o.backlog < 1) throw fail('backlog', 'a positive integer')
  for (const name of ['timeoutKeepAlive', 'timeoutHeaders']) {
    if (typeof o[name] !== 'number' || !(o[name] > 0) || !Number.isFinite(o[name])) throw fail(name, 'a number of seconds > 0')
  }
  if (!Number.isInteger(o.maxHeaderSize) || o.maxHeaderSize < 1024) throw fail('maxHeaderSize', 'an integer >= 1024')
  if (o.serverHeader !== false && (typeof o.serverHeader !== 'string' || UNSAFE_HEADER_VALUE.test(o.serverHeader))) {
    throw fail('serverHeader', 'a header value string, or false for none')
  }
  if (typeof o.dateHeader !== 'boolean') throw fail('dateHeader', 'a boolean')
  if (typeof o.accessLog !== 'boolean') throw fail('accessLog', 'a boolean')
  return o
}

// Listening servers stay referenced until they close (the native object must outlive its sockets).
const open = new Set()

class NativeHttpServer extends EventEmitter {
  #native = null
  #acceptor = null // a net.Server on a Unix socket or inherited fd, handing its sockets to #native
  #closed = false
  #closePromise = null
  #settleClose = null

  /** @internal created by handler.listen() */
  constructor (addon, nativeHandler, handlerOptions, listenOptions) {
    super()
    const h = handlerOptions
    const o = listenOptions
    this.#native = new addon.NativeServer(nativeHandler, {
      rootPath: h.rootPath,
      serverHeader: o.serverHeader === false ? null : o.serverHeader,
      dateHeader: o.dateHeader,
      maxHeaderSize: o.maxHeaderSize,
      maxHeaderCount: h.maxHeaderCount,
      maxRequestBodySize: h.maxRequestBodySize ?? -1,
      limitConcurrency: h.limitConcurrency ?? -1,
      requestHighWater: h.requestHighWater,
      responseHighWater: h.responseHighWater,
      timeoutHeaders: o.timeoutHeaders,
      timeoutKeepAlive: o.timeoutKeepAlive,
      wsMaxSize: h.wsMaxSize,
      wsMaxQueue: h.wsMaxQueue,
      wsPingInterval: h.wsPingInterval,
      wsPingTimeout: h.wsPingTimeout,
      wsPerMessageDeflate: h.wsPerMessageDeflate,
      defaultHeaders: o.defaultHeaders.flat(),
      // one call per turn of the event loop with that turn's lines, not one per request
      onAccessLog: o.accessLog ? (lines) => this.emit('accessLog', lines) : undefined
    }, () => this.#onClosed())
  }

  /** @internal binds per the listen() options; resolves once listening */
  async listen (o) {
    open.add(this)
    if (o.path === undefined && o.fd === undefined) {
      this.#native.listen(o.host, o.port, o.backlog)
      return
    }
    // A Unix socket or an inherited descriptor: Node accepts (one JS callback per connection,
    // not per request) and the native server serves the socket from then on.
    if (o.path !== undefined) removeStaleSocket(o.path)
    const acceptor = net.createServer({ pauseOnConnect: true }, (socket) => this.adopt(socket))
    await new Promise((resolve, reject) => {
      acceptor.once('error', reject)
      acceptor.listen(o.path !== undefined ? { path: o.path, backlog: o.backlog } : { fd: o.fd, backlog: o.backlog }, () => {
        acceptor.off('error', reject)
        resolve()
      })
    })
    this.#acceptor = acceptor
  }

  /**
   * Serves a connected socket accepted elsewhere (a cluster primary's, a net.Server's): the
   * native server takes a duplicate of its descriptor and `socket` is destroyed. Call it before
   * the socket reads anything (accept with `pauseOnConnect`).
   * @param {import('node:net').Socket} socket
   */
  adopt (socket) {
    const fd = socket?._handle?.fd
    if (!(socket instanceof net.Socket) || !Number.isInteger(fd) || fd < 0) {
      throw new TypeError(`node-asgi: adopt() expects a connected net.Socket, got ${describe(socket)}`)
    }
    try {
      if (this.#closePromise !== null) throw Object.assign(new Error('node-asgi: the server is closing'), { code: 'ECANCELED' })
      this.#native.adopt(fd)
      open.add(this)
    } finally {
      socket.destroy() // the native server holds its own descriptor
    }
  }

  /** { address, family, port } while listening (a path string on a Unix socket), else null (like net.Server#address()). */
  address () {
    if (this.#closed) return null
    return this.#acceptor !== null ? this.#acceptor.address() : this.#native.address()
  }

  /** Open connections (HTTP keep-alive and WebSocket). */
  get connections () { return this.#native.connections() }

  /** Requests and WebSockets the app is serving now. */
  get inFlight () { return this.#native.inFlight() }

  get listening () { return !this.#closed && this.#closePromise === null }

  /**
   * Stops accepting connections, closes idle keep-alive connections, closes WebSockets with 1012
   * and lets requests in flight finish (their connections close after the response). Resolves,
   * and emits 'close', once every connection is closed. `callback` is called then too.
   */
  close (options, callback) {
    if (typeof options === 'function') [options, callback] = [undefined, options]
    const grace = options?.idleGrace ?? 0
    if (typeof grace !== 'number' || !(grace >= 0) || !Number.isFinite(grace)) {
      throw new TypeError(`node-asgi: close() option 'idleGrace' must be a number of seconds >= 0, got ${describe(grace)}`)
    }
    if (this.#closePromise === null) {
      this.#closePromise = new Promise((resolve) => { this.#settleClose = resolve })
      this.#acceptor?.close()
      this.#native.close(grace)
    }
    if (typeof callback === 'function') this.#closePromise.then(() => callback())
    return this.#closePromise
  }

  /** Closes every connection at once, without waiting for responses in flight. */
  closeAllConnections () {
    this.close()
    this.#native.closeNow()
  }

  #onClosed () {
    if (this.#closed) return
    this.#closed = true
    open.delete(this)
    this.#settleClose?.()
    this.emit('close')
  }
}

// asyncio's rule for Unix servers: a socket file left by a dead server is replaced (its mode is
// returned, so that the new socket can keep it, as uvicorn does); any other file at that path is
// an error. null when there was no file.
function removeStaleSocket (path) {
  let stat
  try {
    stat = fs.statSync(path)
  } catch {
    return null
  }
  if (!stat.isSocket()) throw Object.assign(new Error(`node-asgi: listen path ${path} exists and is not a socket`), { code: 'EADDRINUSE' })
  fs.unlinkSync(path)
  return stat.mode & 0o777
}

module.exports = { NativeHttpServer, normalizeListenOptions, removeStaleSocket, LISTEN_DEFAULTS: DEFAULTS }
