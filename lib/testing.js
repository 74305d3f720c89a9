'use strict'
// node-asgi/testing: an in-process test client for a Python ASGI app (no sockets), for node --test:
// request() (handleRequest's shape), fetch() (streaming, WHATWG), websocket() (Starlette's TestClient's helpers).
const { PythonHandler } = require('./handler')
const { describe } = require('./options')
const { address } = require('./inprocess_options')
const { openInProcessWebSocket, WebSocketDeniedError } = require('./inprocess_websocket')

const DEFAULT_BASE_URL = 'http://testserver'
const DEFAULT_CLIENT = ['testclient', 50000]

/** receiveText()/receiveBytes()/receiveJson() found the WebSocket closed (Starlette's name). */
class WebSocketDisconnect extends Error {
  constructor (code, reason) {
    super(`node-asgi: the WebSocket closed with ${code}${reason ? ` (${reason})` : ''}`)
    this.name = 'WebSocketDisconnect'
    this.code = code
    this.reason = reason
  }
}

/** One WebSocket of a TestClient: InProcessWebSocket plus typed send and receive helpers. */
class TestWebSocket {
  #ws

  constructor (ws) {
    this.#ws = ws
  }

  /** The subprotocol the app accepted with, or null. */
  get subprotocol () { return this.#ws.subprotocol }
  /** The headers of the app's websocket.accept (lower-cased names; repeated ones as arrays). */
  get headers () { return this.#ws.headers }
  /** true once either side closed. */
  get closed () { return this.#ws.closed }
  /** Resolves once the app's ASGI call has returned. */
  get finished () { return this.#ws.finished }

  /** Sends a string as a text message or bytes as a binary one; resolves once the app may take more. */
  send (data) { return this.#ws.send(data) }

  sendText (text) {
    if (typeof text !== 'string') return Promise.reject(new TypeError(`node-asgi: sendText() 'text' must be a string, got ${describe(text)}`))
    return this.#ws.send(text)
  }

  sendBytes (bytes) {
    if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer)) {
      return Promise.reject(new TypeError(`node-asgi: sendBytes() 'bytes' must be a Buffer, Uint8Array or ArrayBuffer, got ${describe(bytes)}`))
    }
    return this.#ws.send(bytes)
  }

  /** Sends JSON.stringify(value) as a text message (`mode: 'binary'`: as UTF-8 bytes). */
  sendJson (value, { mode = 'text' } = {}) {
    if (mode !== 'text' && mode !== 'binary') return Promise.reject(new TypeError(`node-asgi: sendJson() option 'mode' must be 'text' or 'binary', got ${describe(mode)}`))
    const text = JSON.stringify(value)
    if (text === undefined) return Promise.reject(new TypeError(`node-asgi: sendJson() 'value' cannot be serialised as JSON, got ${describe(value)}`))
    return this.#ws.send(mode === 'text' ? text : Buffer.from(text))
  }

  /** The next message: { type: 'text', data } | { type: 'binary', data: Buffer } | { type: 'close', code, reason }. */
  receive () { return this.#ws.receive() }

  /** The next message as text; rejects with WebSocketDisconnect on a close and TypeError on a binary message. */
  async receiveText () {
    return this.#expect('text', await this.#ws.receive(), 'receiveText')
  }

  /** The next message as a Buffer; rejects with WebSocketDisconnect on a close and TypeError on a text message. */
  async receiveBytes () {
    return this.#expect('binary', await this.#ws.receive(), 'receiveBytes')
  }

  /** The next message parsed as JSON (a text message; `mode: 'binary'`: a binary one). */
  async receiveJson ({ mode = 'text' } = {}) {
    if (mode !== 'text' && mode !== 'binary') throw new TypeError(`node-asgi: receiveJson() option 'mode' must be 'text' or 'binary', got ${describe(mode)}`)
    const data = this.#expect(mode, await this.#ws.receive(), 'receiveJson')
    return JSON.parse(mode === 'text' ? data : data.toString('utf8'))
  }

  /** Closes the WebSocket (the app sees websocket.disconnect with `code`); resolves once the app returned. */
  async close (code = 1000, reason = '') {
    this.#ws.close(code, reason)
    return this.#ws.finished
  }

  [Symbol.asyncIterator] () { return this.#ws[Symbol.asyncIterator]() }

  #expect (type, message, method) {
    if (message.type === 'close') throw new WebSocketDisconnect(message.code, message.reason)
    if (message.type !== type) throw new TypeError(`node-asgi: ${method}() expected a ${type} message, got a ${message.type} one`)
    return message.data
  }
}

/**
 * An in-process client for one PythonHandler. `baseUrl` gives the Host header, scheme and server of
 * every request; `client` the scope's client address (null for none). Owns the handler (closes it
 * in close()) when `ownsHandler` is true, as createTestClient() makes it.
 */
class TestClient {
  #handler
  #baseUrl
  #client
  #ownsHandler
  #sockets = new Set()

  constructor (handler, { baseUrl = DEFAULT_BASE_URL, client = DEFAULT_CLIENT, ownsHandler = false } = {}) {
    if (!(handler instanceof PythonHandler)) throw new TypeError(`node-asgi: TestClient 'handler' must be a PythonHandler, got ${describe(handler)}`)
    let url
    try {
      url = new URL(baseUrl)
    } catch {
      throw new TypeError(`node-asgi: TestClient option 'baseUrl' must be an absolute http(s) URL, got ${describe(baseUrl)}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`node-asgi: TestClient option 'baseUrl' must be an http: or https: URL, got ${describe(baseUrl)}`)
    if (typeof ownsHandler !== 'boolean') throw new TypeError(`node-asgi: TestClient option 'ownsHandler' must be a boolean, got ${describe(ownsHandler)}`)
    this.#handler = handler
    this.#baseUrl = url
    this.#client = address('client', client)
    this.#ownsHandler = ownsHandler
  }

  /** The PythonHandler this client drives. */
  get handler () { return this.#handler }

  /** Starts the handler (imports the app, runs lifespan startup); idempotent. */
  async start () {
    await this.#handler.start()
    return this
  }

  /**
   * One request, answered when the app completes its response: handleRequest()'s shape
   * ({ method, url, headers, body } → { status, headers, rawHeaders, body }) plus text() and
   * json(). A Host header from `baseUrl` is added when the request has none.
   */
  async request (request = {}) {
    if (request === null || typeof request !== 'object') throw new TypeError(`node-asgi: request() expects a request object { method, url, headers, body }, got ${describe(request)}`)
    const headers = withHost(request.headers, this.#baseUrl.host)
    const res = await this.#handler.handleRequest({ ...request, headers })
    return Object.assign(res, {
      text () { return res.body.toString('utf8') },
      json () { return JSON.parse(res.body.toString('utf8')) }
    })
  }

  /**
   * The streaming variant: `fetch(url, init)` with WHATWG semantics (a path is resolved against
   * `baseUrl`); resolves with a Response as soon as the app starts it. See handler.fetch().
   */
  fetch (input, init) {
    let request
    try {
      request = input instanceof Request && init === undefined ? input : new Request(typeof input === 'string' ? new URL(input, this.#baseUrl) : input, init)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.#handler.fetch(request, { client: this.#client })
  }

  /**
   * Opens a WebSocket to `path` (may carry a query); resolves once the app accepts, rejects with a
   * WebSocketDeniedError when it refuses. Options: `query`, `headers`, `subprotocols`, `signal`.
   */
  async websocket (path, options = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new TypeError(`node-asgi: websocket() 'options' must be an object such as { subprotocols: ['v1'] }, got ${describe(options)}`)
    }
    const server = [this.#baseUrl.hostname, Number(this.#baseUrl.port) || (this.#baseUrl.protocol === 'https:' ? 443 : 80)]
    const ws = await openInProcessWebSocket(this.#handler, {
      scheme: this.#baseUrl.protocol === 'https:' ? 'wss' : 'ws',
      client: this.#client,
      server,
      ...options,
      path,
      headers: withHost(options.headers, this.#baseUrl.host)
    })
    this.#sockets.add(ws)
    ws.finished.then(() => this.#sockets.delete(ws))
    return new TestWebSocket(ws)
  }

  /**
   * Closes this client's open WebSockets (1000) and waits for their apps to return; then, when the
   * client owns its handler, closes it (lifespan shutdown).
   */
  async close () {
    const open = [...this.#sockets]
    for (const ws of open) if (!ws.closed) ws.close(1000, '')
    await Promise.all(open.map((ws) => ws.finished))
    if (this.#ownsHandler) await this.#handler.close()
  }
}

// `headers` (object or flat array, as handleRequest() takes them) with a Host header when it has none.
function withHost (headers, host) {
  if (headers === undefined || headers === null) return { host }
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === 'host') return headers
    return ['host', host, ...headers]
  }
  if (typeof headers !== 'object') return headers // handleRequest() names the error
  for (const name of Object.keys(headers)) if (name.toLowerCase() === 'host') return headers
  return { host, ...headers }
}

/**
 * Creates a PythonHandler from `options` (PythonHandlerOptions, plus `baseUrl` and `client`), starts
 * it (lifespan startup included) and resolves with a TestClient that owns it: close() closes it.
 * Rejects with the start error (the handler is closed first).
 */
async function createTestClient (options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`node-asgi: createTestClient() expects options such as { app: 'main:app', appDir }, got ${describe(options)}`)
  }
  const { baseUrl, client, ...handlerOptions } = options
  const handler = new PythonHandler(handlerOptions)
  const testClient = new TestClient(handler, { baseUrl, client, ownsHandler: true })
  try {
    await handler.start()
  } catch (err) {
    await handler.close()
    throw err
  }
  return testClient
}

module.exports = { createTestClient, TestClient, TestWebSocket, WebSocketDisconnect, WebSocketDeniedError }
