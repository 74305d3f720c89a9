'use strict'
// An in-process WebSocket session with a handler's app, no sockets: the client half of the ASGI
// websocket cycle (the Python side keeps the state machine), with backpressure both ways. JS thread only.
//
//   const ws = await openInProcessWebSocket(handler, { path: '/ws?room=1', headers: { cookie: 'a=1' },
//     subprotocols: ['v1'], client: ['127.0.0.1', 5000], rootPath: '/api', signal })
//   ws.subprotocol, ws.headers, ws.rawHeaders     // what the app accepted with
//   await ws.send('text') / await ws.send(Buffer) // resolves once the app may take more (wsMaxQueue)
//   await ws.receive()                            // { type: 'text', data: string } | { type: 'binary', data: Buffer }
//                                                 // | { type: 'close', code, reason } (then again on every call)
//   for await (const message of ws) ...           // text/binary messages until the close
//   ws.close(1000, 'bye')                         // the app sees websocket.disconnect 1000
//   await ws.finished                             // the app's ASGI call has returned
//
// openInProcessWebSocket() resolves when the app sends websocket.accept. It rejects with a
// WebSocketDeniedError (status, headers, rawHeaders, body, closeCode) when the app closes before
// accepting (403, like a server), sends a denial response (websocket.http.response.*) or fails
// before accepting (500); with signal.reason when `signal` aborts first; with the handler's error
// when it is closed or cannot start; with a TypeError naming a bad option.
const { randomBytes } = require('node:crypto')
const { STATUS_CODES } = require('node:http')
const { TEXT, WANTS_DRAIN, MORE_BODY, bodyBuffer } = require('./native')
const { headersObject } = require('./http_cycle')
const { normalizeRequest } = require('./handler')
const { describe, HTTP_TOKEN: TOKEN } = require('./options')
const { address, rootPathOption, signalOption, checkKeys } = require('./inprocess_options')

const CLOSE_ABNORMAL = 1006
const CLOSE_TOO_BIG = 1009
const CLOSE_INTERNAL_ERROR = 1011
const CLOSE_SERVICE_RESTART = 1012

/** The app refused the handshake; `status`/`headers`/`body` are the HTTP response a client would get. */
class WebSocketDeniedError extends Error {
  constructor (status, rawHeaders, body, closeCode = null) {
    super(`node-asgi: the app denied the WebSocket handshake with ${status} ${STATUS_CODES[status] || ''}`.trimEnd())
    this.name = 'WebSocketDeniedError'
    this.status = status
    this.rawHeaders = rawHeaders
    this.headers = headersObject(rawHeaders)
    this.body = body
    /** The websocket.close code when the app closed before accepting (the response is then 403), else null. */
    this.closeCode = closeCode
  }
}

const OPTIONS = ['path', 'query', 'headers', 'subprotocols', 'client', 'server', 'scheme', 'rootPath', 'signal']

/** The handshake request head from the options (validated; errors name the option). */
function handshakeHead (handler, options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`node-asgi: openInProcessWebSocket() expects an options object such as { path: '/ws' }, got ${describe(options)}`)
  }
  checkKeys(options, OPTIONS, 'WebSocket option')
  const { path = '/', query, headers = {}, subprotocols = [], scheme = 'ws' } = options
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`node-asgi: option 'path' must be a path starting with '/', got ${describe(path)}`)
  let url = path
  if (query !== undefined && query !== null && query !== '') {
    let search
    if (typeof query === 'string') search = query.replace(/^\?/, '')
    else if (query instanceof URLSearchParams) search = query.toString()
    else if (typeof query === 'object' && !Array.isArray(query)) search = new URLSearchParams(query).toString()
    else throw new TypeError(`node-asgi: option 'query' must be a string, URLSearchParams or an object of strings, got ${describe(query)}`)
    url += (url.includes('?') ? '&' : '?') + search
  }
  if (/[\0-\x20\x7f]/.test(url)) throw new TypeError(`node-asgi: option 'path' (with 'query') must not contain spaces or control characters, got ${describe(url)}`)
  if (!Array.isArray(subprotocols) || !subprotocols.every((p) => typeof p === 'string' && TOKEN.test(p))) {
    throw new TypeError(`node-asgi: option 'subprotocols' must be an array of protocol tokens, got ${describe(subprotocols)}`)
  }
  if (scheme !== 'ws' && scheme !== 'wss') throw new TypeError(`node-asgi: option 'scheme' must be 'ws' or 'wss', got ${describe(scheme)}`)
  if (headers === null || typeof headers !== 'object') throw new TypeError(`node-asgi: option 'headers' must be an object or a flat [name, value, ...] array, got ${describe(headers)}`)
  const client = address('client', options.client)
  const server = address('server', options.server)
  const { rawHeaders, url: target } = normalizeRequest({ method: 'GET', url, headers }, '')
  const has = (name) => rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === name)
  // What a browser or `ws` sends: the app sees a scope like a real connection's.
  if (!has('host')) rawHeaders.unshift('host', server ? `${server[0]}:${server[1]}` : 'localhost')
  if (!has('connection')) rawHeaders.push('connection', 'Upgrade')
  if (!has('upgrade')) rawHeaders.push('upgrade', 'websocket')
  if (!has('sec-websocket-version')) rawHeaders.push('sec-websocket-version', '13')
  if (!has('sec-websocket-key')) rawHeaders.push('sec-websocket-key', randomBytes(16).toString('base64'))
  if (subprotocols.length && !has('sec-websocket-protocol')) rawHeaders.push('sec-websocket-protocol', subprotocols.join(', '))
  return {
    scheme,
    target,
    rawHeaders,
    rootPath: rootPathOption(options.rootPath, handler.options.rootPath),
    client,
    server,
    signal: signalOption(options.signal)
  }
}

/**
 * The client side of one WebSocket with the app, handed out once the app accepted. The handler
 * calls the on*() methods from its event batches (the same interface as ws_cycle.js's WebSocketCycle).
 */
class InProcessWebSocket {
  #handler
  #id
  #head
  #settle // { resolve, reject } until the handshake is answered
  #state = 'handshake' // handshake → open → closed
  #denial = null // { status, headers, chunks } while the app sends a denial response
  #inbox = [] // messages for receive(): { message, ack }
  #receivers = [] // receive() calls waiting for a message
  #closeMessage = null // { type: 'close', code, reason } once closed (either side)
  #unacked = 0 // messages handed to Python since it last asked for more
  #outbox = [] // send() calls waiting while the app's queue is full: { bytes, text, resolve, reject }
  #resumeWaiters = [] // send() calls whose message paused the queue: resolved by onResume()
  #paused = false
  #done = false // the app's ASGI call returned
  #shuttingDown = false
  #finish
  #onAbort = null

  /** The subprotocol the app accepted with, or null. */
  subprotocol = null
  /** The `headers` of the app's websocket.accept, flat: [name, value, ...]. */
  rawHeaders = []
  /** The same as an object: lower-cased names, repeated ones (and set-cookie) as arrays. */
  headers = {}
  /** Resolves once the app's ASGI call has returned (never rejects). */
  finished

  constructor (handler, id, head, settle) {
    this.#handler = handler
    this.#id = id
    this.#head = head
    this.#settle = settle
    this.finished = new Promise((resolve) => { this.#finish = resolve })
  }

  get id () { return this.#id }

  /** true once either side closed (or the connection was lost). */
  get closed () { return this.#closeMessage !== null }

  // -- the client's side ----------------------------------------------------------------------

  /**
   * Sends a text (string) or binary (Buffer, Uint8Array, ArrayBuffer) message. Resolves once the
   * app's queue has room for more (after wsMaxQueue unreceived messages it waits for the app).
   * Rejects once the WebSocket is closed; a message over wsMaxSize closes it with 1009, as a server would.
   */
  send (data) {
    let bytes
    const text = typeof data === 'string'
    if (text) bytes = Buffer.from(data, 'utf8')
    else if (Buffer.isBuffer(data)) bytes = data
    else if (ArrayBuffer.isView(data)) bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    else if (data instanceof ArrayBuffer) bytes = Buffer.from(data)
    else return Promise.reject(new TypeError(`node-asgi: WebSocket send() 'data' must be a string, Buffer, Uint8Array or ArrayBuffer, got ${describe(data)}`))
    if (this.#closeMessage !== null) {
      return Promise.reject(Object.assign(new Error(`node-asgi: cannot send on a closed WebSocket (closed with ${this.#closeMessage.code})`), { code: 'ERR_WEBSOCKET_CLOSED' }))
    }
    const max = this.#handler.options.wsMaxSize
    if (bytes.length > max) {
      this.#closeBoth(CLOSE_TOO_BIG, '')
      return Promise.reject(new RangeError(`node-asgi: a WebSocket message of ${bytes.length} bytes is over wsMaxSize (${max}); the connection was closed with 1009`))
    }
    return new Promise((resolve, reject) => {
      this.#outbox.push({ bytes, text, resolve, reject })
      this.#flushOutbox()
    })
  }

  /** The next message from the app; after the close, the close message again on every call. */
  receive () {
    const entry = this.#inbox.shift()
    if (entry !== undefined) return Promise.resolve(this.#take(entry))
    if (this.#closeMessage !== null) return Promise.resolve(this.#closeMessage)
    return new Promise((resolve) => this.#receivers.push(resolve))
  }

  /** Closes the WebSocket: the app sees websocket.disconnect with `code` and `reason`. Idempotent. */
  close (code = 1000, reason = '') {
    if (!Number.isInteger(code)) throw new TypeError(`node-asgi: WebSocket close 'code' must be an integer, got ${describe(code)}`)
    if (!(code === 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006))) {
      throw new RangeError(`node-asgi: WebSocket close 'code' must be 1000-1003, 1007-1014 or 3000-4999, got ${describe(code)}`)
    }
    if (typeof reason !== 'string' || Buffer.byteLength(reason) > 123) {
      throw new TypeError(`node-asgi: WebSocket close 'reason' must be a string of at most 123 UTF-8 bytes, got ${describe(reason)}`)
    }
    this.#closeBoth(code, reason)
  }

  async * [Symbol.asyncIterator] () {
    while (true) {
      const message = await this.receive()
      if (message.type === 'close') return
      yield message
    }
  }

  // -- internals ------------------------------------------------------------------------------

  begin (native) {
    const h = this.#head
    native.wsConnect(this.#id, 'GET', h.scheme, '1.1', h.target, h.rootPath, h.rawHeaders,
      h.client?.[0] ?? null, h.client?.[1] ?? 0, h.server?.[0] ?? null, h.server?.[1] ?? 0)
    if (h.signal === null) return
    // Aborted while the handler was starting: the app still gets its websocket.connect, then the
    // client is gone (so that its cycle ends like any other and nothing stays pending).
    this.#onAbort = () => {
      if (this.#state !== 'handshake') {
        this.#closeBoth(CLOSE_ABNORMAL, '') // the connection is "lost"
        return
      }
      this.#markClosed(CLOSE_ABNORMAL, '')
      this.#answer(null, h.signal.reason)
      if (!this.#done) native.wsDisconnect(this.#id, CLOSE_ABNORMAL, '')
    }
    if (h.signal.aborted) this.#onAbort()
    else h.signal.addEventListener('abort', this.#onAbort, { once: true })
  }

  // Resolves or rejects openInProcessWebSocket() once.
  #answer (value, error) {
    const settle = this.#settle
    if (settle === null) return
    this.#settle = null
    if (error) settle.reject(error)
    else settle.resolve(value)
  }

  #take (entry) {
    if (entry.ack && !this.#done) this.#handler.native.drained(this.#id)
    return entry.message
  }

  #deliver (message, ack) {
    const receiver = this.#receivers.shift()
    if (receiver !== undefined) receiver(this.#take({ message, ack }))
    else this.#inbox.push({ message, ack })
  }

  // Hands queued messages to the app until its queue is full (wsMaxQueue unreceived messages).
  #flushOutbox () {
    while (!this.#paused && this.#outbox.length) {
      const { bytes, text, resolve } = this.#outbox.shift()
      this.#unacked++
      this.#paused = this.#unacked >= this.#handler.options.wsMaxQueue
      this.#handler.native.wsMessage(this.#id, bytes, text, this.#paused)
      if (this.#paused) this.#resumeWaiters.push(resolve)
      else resolve()
    }
  }

  // Closed from this side (or the connection "lost"): the app sees websocket.disconnect.
  #closeBoth (code, reason) {
    if (this.#closeMessage !== null) return
    this.#markClosed(code, reason)
    if (!this.#done) this.#handler.native.wsDisconnect(this.#id, code, reason)
  }

  #markClosed (code, reason) {
    if (this.#closeMessage !== null) return
    this.#state = 'closed'
    this.#closeMessage = { type: 'close', code, reason }
    if (this.#onAbort !== null) this.#head.signal.removeEventListener('abort', this.#onAbort)
    const unsent = this.#outbox
    const sent = this.#resumeWaiters
    this.#outbox = []
    this.#resumeWaiters = []
    this.#paused = false
    for (const { resolve } of sent) resolve()
    for (const { reject } of unsent) reject(Object.assign(new Error(`node-asgi: the WebSocket closed (${code}) before this message was sent`), { code: 'ERR_WEBSOCKET_CLOSED' }))
    const receivers = this.#receivers
    this.#receivers = []
    for (const receiver of receivers) receiver(this.#closeMessage)
  }

  // -- the app's answers (called by the handler) ----------------------------------------------

  onAccept (subprotocol, headers) {
    if (this.#state !== 'handshake') return
    this.#state = 'open'
    this.subprotocol = subprotocol
    this.rawHeaders = headers
    this.headers = headersObject(headers)
    this.#answer(this)
    if (this.#shuttingDown) this.shutdown()
  }

  cork () { return false }

  uncork () {}

  onSend (data, flags) {
    const ack = (flags & WANTS_DRAIN) !== 0
    if (this.#closeMessage !== null) {
      if (ack && !this.#done) this.#handler.native.drained(this.#id)
      return
    }
    const message = flags & TEXT ? { type: 'text', data: data.toString('utf8') } : { type: 'binary', data }
    this.#deliver(message, ack) // the app's send() waits until this one is received
  }

  onClose (code, reason) {
    if (this.#state === 'handshake') {
      this.#markClosed(CLOSE_ABNORMAL, '')
      this.#answer(null, new WebSocketDeniedError(403, ['content-type', 'text/plain; charset=utf-8'], Buffer.from(STATUS_CODES[403]), code))
      this.#handler.native.wsDisconnect(this.#id, CLOSE_ABNORMAL, '')
    } else if (this.#closeMessage === null) {
      this.#markClosed(code, reason)
      // What a client does: answer the close frame; the app then sees websocket.disconnect.
      if (!this.#done) this.#handler.native.wsDisconnect(this.#id, code, reason)
    }
  }

  onResume () {
    this.#unacked = 0
    this.#paused = false
    const waiters = this.#resumeWaiters
    this.#resumeWaiters = []
    for (const resolve of waiters) resolve()
    this.#flushOutbox()
  }

  onResponseStart (status, headers) {
    this.#denial = { status, headers, chunks: [] }
  }

  onResponseBody (chunk, flags) {
    const denial = this.#denial
    if (chunk.length) denial.chunks.push(bodyBuffer(chunk))
    if (flags & WANTS_DRAIN) this.#handler.native.drained(this.#id)
    if (!(flags & MORE_BODY)) {
      this.#markClosed(CLOSE_ABNORMAL, '')
      this.#answer(null, new WebSocketDeniedError(denial.status, denial.headers, Buffer.concat(denial.chunks)))
      if (!this.#done) this.#handler.native.wsDisconnect(this.#id, CLOSE_ABNORMAL, '')
    }
  }

  onDone (abort) {
    this.#done = true
    if (this.#state === 'handshake' || this.#settle !== null) {
      this.#markClosed(CLOSE_ABNORMAL, '')
      this.#answer(null, new Error(abort
        ? 'node-asgi: the ASGI app did not complete its WebSocket denial response'
        : 'node-asgi: the ASGI app ended without answering the WebSocket handshake'))
    } else if (this.#closeMessage === null) {
      // the app's task ended without a close (cancelled at the graceful-shutdown timeout)
      this.#markClosed(this.#shuttingDown ? CLOSE_SERVICE_RESTART : CLOSE_INTERNAL_ERROR, this.#shuttingDown ? 'Service Restart' : '')
    }
    this.#finish()
  }

  /** handler.close(): an open WebSocket closes with 1012 (the app sees websocket.disconnect 1012). */
  shutdown () {
    this.#shuttingDown = true
    if (this.#state === 'open') this.#closeBoth(CLOSE_SERVICE_RESTART, 'Service Restart')
  }

  /** The handler cannot serve (closed, failed to start, loop thread gone). */
  fail (error) {
    this.#done = true
    if (this.#settle !== null) {
      this.#markClosed(CLOSE_ABNORMAL, '')
      this.#answer(null, error)
    } else if (this.#closeMessage === null) {
      this.#markClosed(CLOSE_INTERNAL_ERROR, 'Server error')
    }
    this.#finish()
  }
}

/**
 * Opens a WebSocket session with `handler`'s app in-process (starting the handler if needed).
 * See the top of this file for the interface.
 * @param {import('..').PythonHandler} handler
 * @param {import('..').InProcessWebSocketOptions} [options]
 * @returns {Promise<InProcessWebSocket>}
 */
function openInProcessWebSocket (handler, options = {}) {
  if (handler === null || typeof handler !== 'object' || typeof handler.serveInProcess !== 'function') {
    return Promise.reject(new TypeError(`node-asgi: openInProcessWebSocket() 'handler' must be a PythonHandler, got ${describe(handler)}`))
  }
  let head
  try {
    head = handshakeHead(handler, options)
  } catch (err) {
    return Promise.reject(err)
  }
  if (head.signal?.aborted) return Promise.reject(head.signal.reason)
  return new Promise((resolve, reject) => {
    handler.serveInProcess((id) => new InProcessWebSocket(handler, id, head, { resolve, reject }))
  })
}

module.exports = { openInProcessWebSocket, InProcessWebSocket, WebSocketDeniedError }
