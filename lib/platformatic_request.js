'use strict'
// Request of node-asgi/platformatic: @platformatic/python-node's request (method, url, headers,
// body, socket, docroot, websocket), with a body that may also be streamed with write()/end().
const { Headers, describe, TOKEN } = require('./platformatic_headers')

const kBody = Symbol('node-asgi.platformatic.body')
const kStreamed = Symbol('node-asgi.platformatic.streamed')
const kTarget = Symbol('node-asgi.platformatic.target')
const HIGH_WATER = 64 * 1024 // written bytes held before write() waits for the app to read

function bodyOption (body) {
  if (body === undefined || body === null) return null
  if (Buffer.isBuffer(body)) return body
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (typeof body === 'string') return Buffer.from(body)
  throw new TypeError(`node-asgi/platformatic: request 'body' must be a Buffer, Uint8Array or string, got ${describe(body)}`)
}

function methodOption (method) {
  if (typeof method !== 'string' || !TOKEN.test(method)) throw new TypeError(`node-asgi/platformatic: request 'method' must be an HTTP method token such as 'GET', got ${describe(method)}`)
  return method
}

function urlOption (url) {
  if (typeof url !== 'string') throw new TypeError(`node-asgi/platformatic: request 'url' must be a string (a path such as '/items?x=1' or an absolute URL), got ${describe(url)}`)
  if (/[\0-\x20\x7f]/.test(url)) throw new TypeError(`node-asgi/platformatic: request 'url' must not contain spaces or control characters, got ${JSON.stringify(url)}`)
  if (url.charCodeAt(0) === 47) return url // '/'
  let parsed
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError(`node-asgi/platformatic: request 'url' must be a path starting with '/' or an absolute URL, got ${JSON.stringify(url)}`)
  }
  if (!/^(https?|wss?):$/.test(parsed.protocol)) throw new TypeError(`node-asgi/platformatic: request 'url' must use http, https, ws or wss, got ${JSON.stringify(url)}`)
  return url
}

function socketOption (socket) {
  if (socket === undefined || socket === null) return null
  if (typeof socket !== 'object') throw new TypeError(`node-asgi/platformatic: request 'socket' must be an object { localAddress, localPort, remoteAddress, remotePort, ... }, got ${describe(socket)}`)
  for (const key of ['localAddress', 'remoteAddress']) {
    if (socket[key] !== undefined && typeof socket[key] !== 'string') throw new TypeError(`node-asgi/platformatic: request 'socket.${key}' must be a string, got ${describe(socket[key])}`)
  }
  for (const key of ['localPort', 'remotePort']) {
    const v = socket[key]
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 65535)) throw new TypeError(`node-asgi/platformatic: request 'socket.${key}' must be a port number, got ${describe(v)}`)
  }
  return { ...socket }
}

/** Where the request goes: path and query for node-asgi, and the scope fields an absolute URL sets. */
function target (url, websocket) {
  if (url.charCodeAt(0) === 47) {
    const hash = url.indexOf('#')
    return { path: hash === -1 ? url : url.slice(0, hash), scheme: null, host: null, port: 0 }
  }
  const u = new URL(url)
  const secure = u.protocol === 'https:' || u.protocol === 'wss:'
  const scheme = websocket ? (secure ? 'wss' : 'ws') : (secure ? 'https' : 'http')
  return { path: (u.pathname || '/') + u.search, scheme, host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : (secure ? 443 : 80) }
}

/**
 * The body as written with write()/end(): chunks wait here until an exchange attaches a sink
 * ({ data(chunk) → false when it is congested, end() }) that takes them as the app reads.
 */
class BodyStream {
  constructor () {
    this.chunks = [] // written, not taken yet (Buffers; strings too in WebSocket mode)
    this.bytes = 0
    this.used = false // write() or end() was called
    this.ended = false
    this.sink = null
    this.direct = null // WebSocket mode: { send(chunk) → Promise, end() }
    this.waiters = [] // write() promises waiting for room
    this.endWaiters = [] // buffered handleRequest() waiting for end()
  }

  write (chunk, keepStrings) {
    if (this.ended) {
      const err = new Error('node-asgi/platformatic: write() after end()')
      err.code = 'ERR_STREAM_WRITE_AFTER_END'
      return Promise.reject(err)
    }
    if (typeof chunk === 'string') {
      if (!keepStrings) chunk = Buffer.from(chunk)
    } else if (chunk instanceof Uint8Array) {
      chunk = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    } else {
      return Promise.reject(new TypeError(`node-asgi/platformatic: write() 'chunk' must be a Buffer, Uint8Array or string, got ${describe(chunk)}`))
    }
    this.used = true
    if (this.direct !== null) return this.direct.send(chunk)
    if (this.sink !== null && this.chunks.length === 0) {
      if (this.sink.data(chunk)) return Promise.resolve()
      return new Promise((resolve) => this.waiters.push(resolve))
    }
    this.chunks.push(chunk)
    this.bytes += chunk.length
    if (this.bytes <= HIGH_WATER) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  end () {
    if (this.direct !== null) {
      this.ended = true
      this.direct.end()
      return Promise.resolve()
    }
    if (!this.ended) {
      this.used = true
      this.ended = true
      for (const resolve of this.endWaiters.splice(0)) resolve()
      if (this.sink !== null && this.chunks.length === 0) this.sink.end()
    }
    return Promise.resolve()
  }

  /** Hands what was written to `sink`, and everything written later. */
  attach (sink) {
    this.sink = sink
    this.flush()
  }

  /** WebSocket mode: every write() is `direct.send(chunk)` (in order, after what was written before). */
  attachDirect (direct) {
    const chunks = this.take()
    this.direct = direct
    for (const chunk of chunks) direct.send(chunk).catch(() => {}) // their write() already resolved
    if (this.ended) direct.end()
  }

  /** The sink has room again. */
  flush () {
    const { sink } = this
    while (this.chunks.length > 0) {
      const chunk = this.chunks.shift()
      this.bytes -= chunk.length
      if (!sink.data(chunk)) break
    }
    if (this.chunks.length === 0) {
      for (const resolve of this.waiters.splice(0)) resolve()
      if (this.ended) sink.end()
    }
  }

  /** The sink is gone (the app finished or the exchange failed): pending writes resolve. */
  detach () {
    this.sink = null
    for (const resolve of this.waiters.splice(0)) resolve()
  }

  /** Resolves when end() was called (a buffered request needs the whole body). */
  whenEnded () {
    if (this.ended) return Promise.resolve()
    return new Promise((resolve) => this.endWaiters.push(resolve))
  }

  take () {
    const chunks = this.chunks
    this.chunks = []
    this.bytes = 0
    for (const resolve of this.waiters.splice(0)) resolve()
    return chunks
  }
}

class Request {
  #method
  #url
  #headers
  #body
  #docroot
  #socket
  #websocket
  #stream = null // BodyStream, made on first use

  /** @param {import('../platformatic').RequestOptions} options */
  constructor (options) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new TypeError(`node-asgi/platformatic: new Request() expects an options object { method, url, headers, body }, got ${describe(options)}`)
    }
    if (options.url === undefined) throw new TypeError("node-asgi/platformatic: request 'url' is required")
    this.#url = urlOption(options.url)
    this.#method = options.method === undefined ? 'GET' : methodOption(options.method)
    this.#headers = new Headers(options.headers)
    this.#body = bodyOption(options.body)
    if (options.docroot !== undefined && options.docroot !== null && typeof options.docroot !== 'string') {
      throw new TypeError(`node-asgi/platformatic: request 'docroot' must be a string, got ${describe(options.docroot)}`)
    }
    this.#docroot = options.docroot ?? null
    this.#socket = socketOption(options.socket)
    if (options.websocket !== undefined && typeof options.websocket !== 'boolean') {
      throw new TypeError(`node-asgi/platformatic: request 'websocket' must be a boolean, got ${describe(options.websocket)}`)
    }
    this.#websocket = options.websocket === true
  }

  get method () { return this.#method }
  set method (method) { this.#method = methodOption(method) }

  get url () { return this.#url }
  set url (url) { this.#url = urlOption(url) }

  /** The path of the URL, without the query. */
  get path () {
    const { path } = target(this.#url, this.#websocket)
    const q = path.indexOf('?')
    return q === -1 ? path : path.slice(0, q)
  }

  get headers () { return this.#headers }
  set headers (headers) {
    if (!(headers instanceof Headers)) throw new TypeError(`node-asgi/platformatic: request 'headers' must be a Headers, got ${describe(headers)}`)
    this.#headers = headers
  }

  get docroot () { return this.#docroot }
  set docroot (docroot) {
    if (typeof docroot !== 'string') throw new TypeError(`node-asgi/platformatic: request 'docroot' must be a string, got ${describe(docroot)}`)
    this.#docroot = docroot
  }

  /** The body given to the constructor (or set), else an empty Buffer. Written chunks are not in it. */
  get body () { return this.#body ?? Buffer.alloc(0) }
  set body (body) { this.#body = bodyOption(body) }

  /** Whether handleStream() opens a WebSocket for this request. */
  get websocket () { return this.#websocket }

  /** The socket info given to the constructor, or null. */
  get socket () { return this.#socket === null ? null : { ...this.#socket } }

  /**
   * Writes a chunk of the body (HTTP), or sends a message (WebSocket: a string is a text message,
   * a Buffer a binary one). Resolves when it is accepted; waits while 64 KiB are unread.
   */
  write (chunk) { return this[kBody].write(chunk, this.#websocket) }

  /** Ends the body (HTTP), or closes the WebSocket with 1000. */
  end () { return this[kBody].end() }

  toJSON () {
    const out = { method: this.#method, url: this.#url, headers: this.#headers.toJSON(), body: this.body }
    if (this.#docroot !== null) out.docroot = this.#docroot
    return out
  }

  /** (internal) the written body. */
  get [kBody] () { return (this.#stream ??= new BodyStream()) }

  /** (internal) whether write() or end() was called. */
  get [kStreamed] () { return this.#stream !== null && this.#stream.used }

  /** (internal) path and query, scheme and server of the URL. */
  get [kTarget] () { return target(this.#url, this.#websocket) }
}

module.exports = { Request, kBody, kStreamed, kTarget }
