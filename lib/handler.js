'use strict'
// PythonHandler: the public face of node-asgi. Owns one embedded ASGI app (its loop thread, its
// lifespan) and routes the loop thread's events to the request cycles that await them. JS thread.
const { EventEmitter } = require('node:events')
const { normalizeOptions, describe, HTTP_TOKEN, UNSAFE_HEADER_VALUE } = require('./options')
const { native: loadNative, Events, splitHeaders } = require('./native')
const { PythonError } = require('./errors')
const { Logger } = require('./logger')
const { NodeHttpCycle, BufferedHttpCycle, respondPlain, serveUpgradeAsHttp } = require('./http_cycle')
const { WebSocketCycle, asksForWebSocket, invalidHandshake, rejectHandshake } = require('./ws_cycle')
const { NativeHttpServer, normalizeListenOptions } = require('./native_server')
const { fetchThrough } = require('./fetch_cycle')

const http = require('node:http')
const { STATUS_CODES } = http

const State = Object.freeze({ NEW: 'new', STARTING: 'starting', STARTED: 'started', CLOSING: 'closing', CLOSED: 'closed', FAILED: 'failed' })

// New requests queue for the loop thread without waking it; the first of a turn calls this (with
// the addon object, so that no closure keeps it alive) for one wakeLoop() after the turn's I/O
// callbacks: the requests read in one poll phase cost the loop thread one wakeup (or one per 16).
function arrangeWake (native) { setImmediate(wakeLoop, native) }
function wakeLoop (native) { native.wakeLoop() }

class PythonHandler extends EventEmitter {
  #native = null
  #meta = null // the kind/id/n triples of the event batch being delivered (see native.js)
  #state = State.NEW
  #startPromise = null
  #closePromise = null
  #settleStart = null // { resolve, reject } while starting
  #settleClose = null
  #cycles = new Map() // request id → cycle, until the app returns
  #waiting = [] // requests that arrived before startup completed
  #nextId = 1
  #failure = null // the Error that made this handler unusable
  #listener = null
  #upgradeListener = null
  #wss = null // the `ws` server (noServer mode) that completes accepted handshakes
  #wsCycles = new WeakMap() // upgrade request → its WebSocketCycle, for ws's handshake hooks
  #servers = new Set() // native servers from listen(), closed by close()

  /** @param {import('..').PythonHandlerOptions} options */
  constructor (options) {
    super()
    this.options = normalizeOptions(options)
    this.logger = new Logger(this.options.logger, this.options.logLevel)
    this.fetch = this.fetch.bind(this) // usable on its own: app.mount('/py', handler.fetch)
  }

  /** 'new' | 'starting' | 'started' | 'closing' | 'closed' | 'failed' */
  get state () { return this.#state }

  /** The addon object (internal: the request cycles call it). */
  get native () { return this.#native }

  /** Loads the app and runs lifespan startup. Idempotent: later calls return the same promise. */
  start () {
    if (this.#startPromise) return this.#startPromise
    if (this.#state !== State.NEW) return Promise.reject(new Error(`node-asgi: cannot start a handler that is ${this.#state}`))
    this.#state = State.STARTING
    this.#startPromise = new Promise((resolve, reject) => {
      this.#settleStart = { resolve, reject }
      try {
        const { addon, python, runtimePath } = loadNative()
        this.#meta = new Float64Array(3 * addon.eventBatch)
        this.#native = new addon.NativeHandler(this.#onEvents.bind(this), this.#meta, arrangeWake)
        this.#native.ref()
        const o = this.options
        this.#native.start({
          executable: python.executable,
          virtualenv: o.virtualenv ?? '',
          runtimePath,
          app: o.app,
          appDir: o.appDir,
          factory: o.factory,
          lifespan: o.lifespan,
          loop: o.loop,
          pathIncludesRootPath: o.pathIncludesRootPath,
          responseHighWater: o.responseHighWater,
          extraSettings: JSON.stringify({
            proxy_headers: o.proxyHeaders,
            forwarded_allow_ips: o.forwardedAllowIps,
            log_config: o.logConfig
          })
        })
      } catch (err) {
        this.#native?.unref() // no loop thread: nothing will settle this handler later
        this.#fail(err)
      }
    })
    return this.#startPromise
  }

  /**
   * A request listener for node:http/https servers and Express/Connect apps. The mount path
   * (Express `req.baseUrl`) is added to `rootPath`. Starts the handler on first use if needed.
   * Also a `'checkContinue'` listener: then `100 Continue` goes out only when the app first calls
   * receive() (as in uvicorn), not as soon as the request arrives (node:http's default).
   */
  listener () {
    if (this.#listener === null) {
      this.#listener = (req, res) => {
        const refusal = this.#refuse(req)
        if (refusal !== 0) {
          respondPlain(res, refusal)
          return
        }
        const cycle = new NodeHttpCycle(this, this.#nextId++, req, res)
        const rootPath = this.options.rootPath + (req.baseUrl || '')
        this.#dispatch(cycle, () => cycle.begin(this.#native, rootPath))
      }
    }
    return this.#listener
  }

  /**
   * An `'upgrade'` listener for node:http servers: serves WebSocket connections with the ASGI
   * websocket protocol. The handshake completes only when the app sends `websocket.accept`.
   * Other upgrades (`Upgrade: h2c`...) are served as plain HTTP by the server's request listeners
   * (this handler's listener() if the server has none), like uvicorn does.
   */
  upgradeListener () {
    if (this.#upgradeListener === null) {
      this.#upgradeListener = (req, socket, head) => {
        if (!asksForWebSocket(req)) {
          const server = socket.server
          const listener = server && server.listenerCount('request') > 0 ? (q, r) => server.emit('request', q, r) : this.listener()
          serveUpgradeAsHttp(req, socket, head, listener)
          return
        }
        const invalid = invalidHandshake(req, this.options)
        if (invalid !== null) {
          rejectHandshake(socket, 400, ['content-type', 'text/plain; charset=utf-8'], Buffer.from(invalid))
          return
        }
        const refusal = this.#refuse(req)
        if (refusal !== 0) {
          rejectHandshake(socket, refusal, ['content-type', 'text/plain; charset=utf-8'], Buffer.from(STATUS_CODES[refusal]))
          return
        }
        const cycle = new WebSocketCycle(this, this.#nextId++, req, socket, head)
        this.#wsCycles.set(req, cycle)
        this.#dispatch(cycle, () => cycle.begin(this.#native, this.options.rootPath + (req.baseUrl || '')))
      }
    }
    return this.#upgradeListener
  }

  /** Installs `listener()` and `upgradeListener()` on a node:http(s) server; returns the server. */
  attach (server) {
    if (!server || typeof server.on !== 'function') throw new TypeError('node-asgi: attach() expects a node:http or node:https server')
    server.on('request', this.listener())
    server.on('checkContinue', this.listener()) // 100 Continue on the app's first receive()
    server.on('upgrade', this.upgradeListener())
    return server
  }

  /**
   * A node:http server already serving this handler (requests and WebSockets), with the CLI's
   * hardening: no request head within `timeoutHeaders` seconds closes the connection, idle
   * keep-alive connections close after `timeoutKeepAlive`, heads over `maxHeaderSize` bytes or
   * with more than the handler's `maxHeaderCount` fields get 431, and no overall request timeout
   * (an app may take as long as it likes). `listener` wraps the request listener (access logs).
   * `Expect: 100-continue` requests go through it too ('checkContinue'): the 100 is sent when the
   * app first calls receive(), never if it answers without reading the body.
   */
  createServer ({ timeoutKeepAlive = 5, timeoutHeaders = 30, maxHeaderSize = 16384, listener = null, tls = null } = {}) {
    const seconds = (name, v) => {
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new TypeError(`node-asgi: createServer() option '${name}' must be a number of seconds > 0, got ${v}`)
      return v * 1000
    }
    if (!Number.isInteger(maxHeaderSize) || maxHeaderSize < 1024) throw new TypeError(`node-asgi: createServer() option 'maxHeaderSize' must be an integer >= 1024, got ${maxHeaderSize}`)
    const headersTimeout = seconds('timeoutHeaders', timeoutHeaders)
    const requestListener = listener ? listener(this.listener()) : this.listener()
    if (tls !== null && (typeof tls !== 'object' || Array.isArray(tls))) throw new TypeError(`node-asgi: createServer() option 'tls' must be an object of tls.createServer() options, got ${describe(tls)}`)
    // with `tls`, node:https: scope scheme https/wss
    const server = (tls === null ? http : require('node:https')).createServer({
      ...tls,
      maxHeaderSize,
      requestTimeout: 0,
      headersTimeout,
      connectionsCheckingInterval: Math.min(1000, headersTimeout),
      keepAliveTimeout: seconds('timeoutKeepAlive', timeoutKeepAlive)
    }, requestListener)
    server.on('checkContinue', requestListener)
    server.maxHeadersCount = this.options.maxHeaderCount + 1 // one too many is seen (431), not dropped
    server.on('upgrade', this.upgradeListener())
    return server
  }

  /**
   * Serves the handler on a native HTTP/1.1 + WebSocket server (libuv + llhttp on Node's event
   * loop; no JavaScript per request). Starts the handler first if needed. Resolves to the
   * listening server; rejects with a TypeError naming a bad option, with the handler's start
   * error, or with a listen error (`code` 'EADDRINUSE'...).
   * @param {import('..').ListenOptions} [options]
   * @returns {Promise<import('..').NativeHttpServer>}
   */
  async listen (options = {}) {
    const o = normalizeListenOptions(options)
    const server = await this.#nativeServer(o)
    try {
      await server.listen(o)
    } catch (err) {
      server.closeAllConnections() // releases its native handles now rather than at collection
      throw err
    }
    return server
  }

  /**
   * A native server that does not listen: hand it connected sockets with `server.adopt(socket)`
   * (how `node-asgi/cluster` workers serve the connections their primary accepts). Same options
   * as listen() without the address ones.
   * @returns {Promise<import('..').NativeHttpServer>}
   */
  async createNativeServer (options = {}) {
    return this.#nativeServer(normalizeListenOptions(options))
  }

  async #nativeServer (o) {
    await this.start()
    if (this.#state !== State.STARTED) throw new Error(`node-asgi: cannot serve on a handler that is ${this.#state}`)
    const server = new NativeHttpServer(loadNative().addon, this.#native, this.options, o)
    this.#servers.add(server)
    server.once('close', () => this.#servers.delete(server))
    return server
  }

  /** The `ws` server that completes handshakes the app accepted (internal). */
  webSocketServer () {
    if (this.#wss === null) {
      const { WebSocketServer } = require('ws')
      const o = this.options
      this.#wss = new WebSocketServer({
        noServer: true,
        clientTracking: false,
        maxPayload: o.wsMaxSize,
        perMessageDeflate: o.wsPerMessageDeflate,
        handleProtocols: (offered, req) => this.#wsCycles.get(req)?.subprotocol ?? false
      })
      this.#wss.on('headers', (headers, req) => {
        const extra = this.#wsCycles.get(req)?.acceptHeaders
        if (extra) for (let i = 0; i < extra.length; i += 2) headers.push(`${extra[i]}: ${extra[i + 1]}`)
      })
    }
    return this.#wss
  }

  /**
   * Runs one request through the app in-process (no sockets).
   * @param {import('..').InProcessRequest} request
   * @returns {Promise<import('..').InProcessResponse>}
   */
  handleRequest (request = {}) {
    let normalized
    try {
      normalized = normalizeRequest(request, this.options.rootPath)
    } catch (err) {
      return Promise.reject(err)
    }
    return new Promise((resolve, reject) => {
      const cycle = new BufferedHttpCycle(this, this.#nextId++, normalized.method, resolve, reject)
      this.#dispatch(cycle, () => cycle.begin(this.#native, normalized))
    })
  }

  /**
   * Runs a WHATWG Request through the app in-process; resolves with a Response as soon as the app
   * starts it, its body streaming as the app sends. See README.md.
   * @param {Request} request
   * @param {import('..').FetchOptions} [options]
   * @returns {Promise<Response>}
   */
  fetch (request, options) {
    return fetchThrough(this, request, options)
  }

  /**
   * Serves an in-process cycle (internal: fetch() and lib/inprocess_websocket.js): `makeCycle(id)`
   * makes it; its begin(native) runs once the handler has started (starting it if needed), or its
   * fail(error) when the handler cannot serve. Returns the cycle.
   */
  serveInProcess (makeCycle) {
    const cycle = makeCycle(this.#nextId++)
    this.#dispatch(cycle, () => cycle.begin(this.#native))
    return cycle
  }

  /**
   * Stops accepting requests (new ones get 503), waits up to `timeoutGracefulShutdown` seconds for
   * those in flight, then runs lifespan shutdown and stops the loop thread.
   */
  close () {
    if (this.#closePromise) return this.#closePromise
    const previous = this.#state
    this.#state = State.CLOSING
    this.#rejectWaiting(new Error('node-asgi: the handler is closing'))
    if (previous === State.NEW || previous === State.FAILED || this.#native === null) {
      for (const server of this.#servers) server.close() // a failed handler's servers answer 503 until now
      this.#state = State.CLOSED
      this.#closePromise = Promise.resolve()
      return this.#closePromise
    }
    this.#closePromise = new Promise((resolve) => { this.#settleClose = resolve })
    this.#native.ref()
    for (const server of this.#servers) server.close() // stop accepting; WebSockets get 1012
    for (const cycle of this.#cycles.values()) cycle.shutdown?.()
    const timeout = this.options.timeoutGracefulShutdown
    this.#native.shutdown(timeout === null ? -1 : timeout)
    return this.#closePromise
  }

  // -- internals ------------------------------------------------------------------------------

  #dispatch (cycle, begin) {
    if (this.#state === State.STARTED) {
      this.#begin(cycle, begin)
    } else if (this.#state === State.NEW || this.#state === State.STARTING) {
      this.#waiting.push({ cycle, begin })
      this.start().catch(() => {}) // failures reach each waiting cycle
    } else {
      cycle.fail(this.#failure ?? new Error(`node-asgi: the handler is ${this.#state}`))
    }
  }

  // The limits checked before the app sees a request: a status to refuse it with, or 0.
  #refuse (req) {
    const o = this.options
    if (o.limitConcurrency !== null && this.#cycles.size + this.#waiting.length >= o.limitConcurrency) return 503
    if (req.rawHeaders.length > o.maxHeaderCount * 2) return 431
    if (o.maxRequestBodySize !== null) {
      const length = req.headers['content-length']
      if (length !== undefined && Number(length) > o.maxRequestBodySize) return 413
    }
    return 0
  }

  #begin (cycle, begin) {
    if (this.#cycles.size === 0) this.#native.ref()
    this.#cycles.set(cycle.id, cycle)
    begin()
  }

  #rejectWaiting (error) {
    const waiting = this.#waiting
    this.#waiting = []
    for (const { cycle } of waiting) cycle.fail(error)
  }

  #onEvents (count, ...payloads) {
    const meta = this.#meta
    let p = 0 // next payload
    let started = null // cycles whose response head arrived in this batch
    let corked = null // WebSockets whose frames of this batch go out in one write
    for (let i = 0; i < 3 * count; i += 3) {
      const kind = meta[i]
      const id = meta[i + 1]
      const n = meta[i + 2]
      const cycle = this.#cycles.get(id)
      switch (kind) {
        case Events.RESPONSE_START: {
          const headers = splitHeaders(payloads[p++])
          if (cycle === undefined) break
          cycle.onResponseStart(n, headers)
          if (started === null) started = [cycle]
          else started.push(cycle)
          break
        }
        case Events.RESPONSE_BODY: {
          const chunk = payloads[p++]
          cycle?.onResponseBody(chunk, n)
          break
        }
        case Events.RESUME_BODY: cycle?.onResume(); break
        case Events.REQUEST_DONE: this.#finish(id, n === 1); break
        case Events.APP_ERROR: this.#appError(cycle, payloads[p++]); break
        case Events.LOG: this.logger.log(n, payloads[p++]); break
        case Events.STARTED: this.#started(); break
        case Events.START_FAILED: this.#fail(new PythonError(payloads[p++], `node-asgi: cannot start the app '${this.options.app}'`)); break
        case Events.CLOSED: break
        case Events.LOOP_EXITED: this.#loopExited(payloads[p++]); break
        case Events.WS_ACCEPT: {
          const subprotocol = payloads[p++]
          const headers = splitHeaders(payloads[p++])
          cycle?.onAccept(subprotocol, headers)
          break
        }
        case Events.WS_SEND: {
          const data = payloads[p++]
          if (cycle === undefined) break
          if (cycle.cork()) {
            if (corked === null) corked = [cycle]
            else corked.push(cycle)
          }
          cycle.onSend(data, n)
          break
        }
        case Events.WS_CLOSE: {
          const reason = payloads[p++]
          cycle?.onClose(n, reason)
          break
        }
      }
    }
    if (started !== null) for (const cycle of started) cycle.flushHead?.()
    if (corked !== null) for (const cycle of corked) cycle.uncork()
  }

  #finish (id, abort) {
    const cycle = this.#cycles.get(id)
    if (cycle === undefined) return
    this.#cycles.delete(id)
    if (this.#cycles.size === 0 && this.#state !== State.CLOSING) this.#native.unref()
    cycle.onDone(abort)
  }

  #appError (cycle, info) {
    const error = new PythonError(info)
    cycle?.onAppError?.(error)
    this.logger.error(info.traceback || error.message)
    if (this.listenerCount('appError') > 0) this.emit('appError', error)
  }

  #started () {
    this.#settleStart.resolve()
    this.#settleStart = null
    if (this.#state !== State.STARTING) return // close() was called during startup
    this.#state = State.STARTED
    if (this.#cycles.size === 0) this.#native.unref()
    const waiting = this.#waiting
    this.#waiting = []
    for (const { cycle, begin } of waiting) this.#begin(cycle, begin)
  }

  // Startup failed, or the loop thread is gone: nothing more can be served.
  #fail (error) {
    if (this.#failure === null) this.#failure = error
    if (this.#state !== State.CLOSING && this.#state !== State.CLOSED) this.#state = State.FAILED
    if (this.#settleStart) {
      this.#settleStart.reject(error)
      this.#settleStart = null
    }
    this.#rejectWaiting(error)
    const cycles = [...this.#cycles.values()]
    this.#cycles.clear()
    for (const cycle of cycles) cycle.fail(error)
  }

  #loopExited (info) {
    const closing = this.#state === State.CLOSING
    const error = info
      ? new PythonError(info, 'node-asgi: the Python loop thread died')
      : new Error(closing ? 'node-asgi: the handler closed' : 'node-asgi: the Python loop thread stopped')
    if (info) this.logger.error(error.message + (info.traceback ? `\n${info.traceback}` : ''))
    this.#fail(error)
    this.#native.unref()
    if (closing) {
      this.#state = State.CLOSED
      this.#settleClose()
    } else if (this.#state !== State.FAILED || this.#startPromise === null) {
      this.#state = State.FAILED
    }
    if (!closing && this.listenerCount('error') > 0 && info) this.emit('error', error)
  }
}

function normalizeRequest (request, rootPath) {
  if (request === null || typeof request !== 'object') throw new TypeError('node-asgi: handleRequest() expects a request object { method, url, headers, body }')
  const method = request.method ?? 'GET'
  if (typeof method !== 'string' || !HTTP_TOKEN.test(method)) throw new TypeError(`node-asgi: request 'method' must be an HTTP method token, got ${JSON.stringify(method)}`)
  const url = request.url ?? '/'
  if (typeof url !== 'string' || !(url.startsWith('/') || url === '*')) throw new TypeError(`node-asgi: request 'url' must be a path starting with '/', got ${JSON.stringify(url)}`)
  if (/[\0-\x20\x7f]/.test(url)) throw new TypeError(`node-asgi: request 'url' must not contain spaces or control characters, got ${JSON.stringify(url)}`)
  const rawHeaders = []
  const headers = request.headers ?? {}
  if (headers === null || typeof headers !== 'object') throw new TypeError("node-asgi: request 'headers' must be an object or a flat [name, value, ...] array")
  const add = (name, value) => {
    const v = String(value)
    if (!HTTP_TOKEN.test(name)) throw new TypeError(`node-asgi: request header name ${JSON.stringify(name)} is not a valid HTTP token`)
    if (UNSAFE_HEADER_VALUE.test(v)) throw new TypeError(`node-asgi: request header '${name}' has a CR, LF or NUL in its value`)
    rawHeaders.push(name, v)
  }
  if (Array.isArray(headers)) {
    if (headers.length % 2) throw new TypeError("node-asgi: request 'headers' as an array must be flat: [name, value, name, value, ...]")
    for (let i = 0; i < headers.length; i += 2) add(String(headers[i]), headers[i + 1])
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (Array.isArray(value)) for (const v of value) add(name, v)
      else if (value !== undefined) add(name, value)
    }
  }
  let body = request.body ?? Buffer.alloc(0)
  if (typeof body === 'string') body = Buffer.from(body)
  else if (body instanceof Uint8Array) body = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  else throw new TypeError("node-asgi: request 'body' must be a Buffer, Uint8Array or string")
  if (body.length && !rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length')) {
    rawHeaders.push('content-length', String(body.length))
  }
  return { method: method.toUpperCase(), url, rawHeaders, body, rootPath }
}

module.exports = { PythonHandler, normalizeRequest }
