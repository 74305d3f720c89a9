'use strict'
// The server `handler.listen()` returns: a native HTTP/1.1 + WebSocket server (src/server/, on
// Node's own event loop, libuv + llhttp) whose requests reach the app with no JavaScript per
// request. This object only covers its lifecycle: listen, address, close, events. JS thread.
const { EventEmitter } = require('node:events')
const { describe } = require('./options')

const DEFAULTS = Object.freeze({
  port: 8000,
  host: '127.0.0.1',
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
  if (!Number.isInteger(o.backlog) || o.backlog < 1) throw fail('backlog', 'a positive integer')
  for (const name of ['timeoutKeepAlive', 'timeoutHeaders']) {
    if (typeof o[name] !== 'number' || !(o[name] > 0) || !Number.isFinite(o[name])) throw fail(name, 'a number of seconds > 0')
  }
  if (!Number.isInteger(o.maxHeaderSize) || o.maxHeaderSize < 1024) throw fail('maxHeaderSize', 'an integer >= 1024')
  if (o.serverHeader !== false && (typeof o.serverHeader !== 'string' || /[\0\r\n]/.test(o.serverHeader))) {
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
      // one call per turn of the event loop with that turn's lines, not one per request
      onAccessLog: o.accessLog ? (lines) => this.emit('accessLog', lines) : undefined
    }, () => this.#onClosed())
  }

  /** @internal */
  listen (host, port, backlog) {
    this.#native.listen(host, port, backlog)
    open.add(this)
  }

  /** { address, family, port } while listening, else null (like net.Server#address()). */
  address () {
    return this.#closed ? null : this.#native.address()
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
  close (callback) {
    if (this.#closePromise === null) {
      this.#closePromise = new Promise((resolve) => { this.#settleClose = resolve })
      this.#native.close()
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

module.exports = { NativeHttpServer, normalizeListenOptions, LISTEN_DEFAULTS: DEFAULTS }
