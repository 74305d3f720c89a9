'use strict'
// node-asgi/platformatic: a drop-in for @platformatic/python-node 2.x (Python, Request, Response,
// Headers) on node-asgi's PythonHandler; the app is loaded through lib/platformatic_asgi.py.
const fs = require('node:fs')
const path = require('node:path')
const { PythonHandler } = require('./handler')
const { PythonError } = require('./errors')
const { Headers, describe } = require('./platformatic_headers')
const { Request, kBody, kStreamed, kTarget } = require('./platformatic_request')
const { Response, kCreate, kFinish } = require('./platformatic_response')
const { MARKER, appHead, decodeBody } = require('./platformatic_frames')
const { streamThrough } = require('./platformatic_cycle')
const { SyncRunner } = require('./platformatic_sync')
const { openWebSocket } = require('./platformatic_websocket')

const EMPTY = Buffer.alloc(0)

// A Python instance dropped without close(): its handler (and sync worker) go with it — but not
// while a streamed Response of it is still reachable (`owners` keeps the instance alive).
const owners = new WeakMap() // streamed Response → its Python
function own (python) { return (response) => { owners.set(response, python); return response } }
const dropped = new FinalizationRegistry((held) => {
  held.sync?.close()
  held.handler.close().catch(() => {})
})

function closedError () {
  const err = new Error('node-asgi/platformatic: this Python instance is closed')
  err.code = 'ERR_NODE_ASGI_CLOSED'
  return err
}

function parseTarget (appTarget) {
  if (appTarget === undefined || appTarget === null) return { file: 'main', function: 'app' }
  let file, fn
  if (typeof appTarget === 'string') {
    const parts = appTarget.split(':')
    if (parts.length !== 2) throw new TypeError(`node-asgi/platformatic: option 'appTarget' must be "file:function" such as "main:app", got ${describe(appTarget)}`)
    ;[file, fn] = parts
  } else if (typeof appTarget === 'object' && typeof appTarget.file === 'string' && typeof appTarget.function === 'string') {
    ({ file, function: fn } = appTarget)
  } else {
    throw new TypeError(`node-asgi/platformatic: option 'appTarget' must be "file:function" such as "main:app" or { file, function }, got ${describe(appTarget)}`)
  }
  if (file === '' || file.includes('\0') || file.split(/[\\/]/).includes('..')) throw new TypeError(`node-asgi/platformatic: option 'appTarget' names an invalid file ${JSON.stringify(file)}`)
  if (!/^[A-Za-z_]\w*$/.test(fn)) throw new TypeError(`node-asgi/platformatic: option 'appTarget' names an invalid function ${JSON.stringify(fn)} (a Python identifier is expected)`)
  return { file, function: fn }
}

function hasHeader (flat, name) {
  for (let i = 0; i < flat.length; i += 2) if (flat[i].toLowerCase() === name) return true
  return false
}

/** Status codes and methods whose response has no body (as HTTP, and node-asgi, say). */
function bodiless (method, status) {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)
}

/** The Error a failure trailer stands for: the app's exception, or why no response came. */
function failure (trailer) {
  let error = trailer.error
  if (error === null) {
    error = new Error(trailer.started
      ? `node-asgi/platformatic: Response interrupted: ${trailer.reason}`
      : `node-asgi/platformatic: No response sent: ${trailer.reason}`)
  }
  error.log = trailer.log
  return error
}

class Python {
  #docroot
  #appTarget
  #handler
  #held // { handler, sync } for the FinalizationRegistry
  #closed = false

  /** @param {import('../platformatic').PythonOptions} [options] */
  constructor (options) {
    if (options === undefined || options === null) options = {}
    if (typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`node-asgi/platformatic: new Python() expects an options object { docroot, appTarget }, got ${describe(options)}`)
    const { docroot = process.cwd() } = options
    if (typeof docroot !== 'string' || docroot === '') throw new TypeError(`node-asgi/platformatic: option 'docroot' must be a directory path, got ${describe(docroot)}`)
    const target = parseTarget(options.appTarget)
    const root = path.resolve(docroot)
    if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`node-asgi/platformatic: option 'docroot' names ${root}, which is not a directory`)
    const entry = path.join(root, `${target.file}.py`)
    if (!fs.statSync(entry, { throwIfNoEntry: false })?.isFile()) throw new Error(`node-asgi/platformatic: Entry point not found: ${entry} (option 'appTarget' ${JSON.stringify(`${target.file}:${target.function}`)})`)
    this.#docroot = docroot
    this.#appTarget = `${target.file}:${target.function}`
    const token = Buffer.from(JSON.stringify({ docroot: root, file: target.file, function: target.function })).toString('hex')
    this.#handler = new PythonHandler({ app: `platformatic_asgi:targets.x${token}`, appDir: __dirname, lifespan: 'auto', loop: 'auto' })
    this.#held = { handler: this.#handler, sync: null }
    dropped.register(this, this.#held, this)
  }

  /** The document root, as given (default: the working directory when constructed). */
  get docroot () { return this.#docroot }

  /**
   * Runs `request` through the app; resolves with its buffered Response. Rejects with the app's
   * PythonError when it raised before completing its response.
   * @param {Request} request
   * @param {AbortSignal} [signal]
   */
  handleRequest (request, signal) {
    try {
      this.#check(request, 'handleRequest', signal)
      if (request.websocket) throw new TypeError("node-asgi/platformatic: handleRequest() 'request' is a WebSocket request; use handleStream()")
    } catch (err) {
      return Promise.reject(err)
    }
    if (signal !== undefined && signal !== null) return this.handleStream(request, signal).then(collect)
    if (request[kStreamed]) {
      const body = request[kBody]
      return body.whenEnded().then(() => this.#buffered(request, Buffer.concat([request.body, ...body.take()])))
    }
    return this.#buffered(request, request.body)
  }

  /**
   * Runs `request` synchronously: blocks this thread until the response is complete. The app runs
   * in a worker thread that loads its own instance of it on first use (see the README).
   * @param {Request} request
   */
  handleRequestSync (request) {
    this.#check(request, 'handleRequestSync')
    if (request.websocket) throw new TypeError("node-asgi/platformatic: handleRequestSync() 'request' is a WebSocket request; use handleStream()")
    const body = request[kBody]
    if (body.used && !body.ended) throw new TypeError("node-asgi/platformatic: handleRequestSync() 'request' has a written body that was not end()ed")
    const payload = body.used ? Buffer.concat([request.body, ...body.take()]) : request.body
    this.#held.sync ??= new SyncRunner(this.#docroot, this.#appTarget)
    const r = this.#held.sync.run({ method: request.method, url: request.url, headers: request.headers.toFlat(), body: payload, socket: request.socket })
    const response = Response[kCreate](r.status, r.headers, Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength), null)
    if (r.log || r.exception) response[kFinish](r.log, r.exception)
    return response
  }

  /**
   * Runs `request` and resolves as soon as the app started its response: the body streams through
   * `for await (const chunk of response)` / `response.next()`. With `websocket: true` on the request,
   * opens a WebSocket: `request.write()` sends, `response.next()` receives, `request.end()` closes.
   * @param {Request} request
   * @param {AbortSignal} [signal]
   */
  handleStream (request, signal) {
    try {
      this.#check(request, 'handleStream', signal)
    } catch (err) {
      return Promise.reject(err)
    }
    if (request.websocket) return openWebSocket(this.#handler, request, signal).then(own(this), (err) => { throw this.#startError(err) })
    const { method, path, rawHeaders, noBody } = this.#prepare(request, true)
    const t = request[kTarget]
    const s = request.socket
    const fixed = request.body
    const body = request[kStreamed] ? request[kBody] : null
    if ((fixed.length > 0 || body !== null) && !hasHeader(rawHeaders, 'content-length') && !hasHeader(rawHeaders, 'transfer-encoding')) {
      if (body !== null) rawHeaders.push('transfer-encoding', 'chunked') // what a client streaming a body sends
      else rawHeaders.push('content-length', String(fixed.length))
    }
    const head = {
      method,
      scheme: t.scheme === 'https' ? 'https' : 'http',
      target: path,
      rawHeaders,
      client: s?.remoteAddress ? [s.remoteAddress, s.remotePort ?? 0] : null,
      server: s?.localAddress ? [s.localAddress, s.localPort ?? 0] : (t.scheme !== null ? [t.host, t.port] : null),
      fixed,
      body,
      noBody,
      signal: signal ?? null
    }
    return streamThrough(this.#handler, head, failure).then(own(this), (err) => { throw this.#startError(err) })
  }

  /** Stops the app (lifespan shutdown runs) and its sync worker. Later calls fail with ERR_NODE_ASGI_CLOSED. */
  close () {
    if (!this.#closed) {
      this.#closed = true
      dropped.unregister(this)
      this.#held.sync?.close()
    }
    return this.#handler.close()
  }

  // -- internals ------------------------------------------------------------------------------

  #check (request, method, signal) {
    if (this.#closed) throw closedError()
    if (!(request instanceof Request)) throw new TypeError(`node-asgi/platformatic: ${method}() 'request' must be a Request (from node-asgi/platformatic), got ${describe(request)}`)
    if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal)) throw new TypeError(`node-asgi/platformatic: ${method}() 'signal' must be an AbortSignal, got ${describe(signal)}`)
  }

  /** What the wrapper needs beyond method, path and headers: the scope fields the request sets. */
  #scopeInfo (request, t) {
    let info = null
    if (t.scheme !== null) info = { s: t.scheme, v: [t.host, t.port] }
    const s = request.socket
    if (s !== null) {
      info ??= {}
      if (s.remoteAddress) info.c = [s.remoteAddress, s.remotePort ?? 0]
      if (s.localAddress) info.v = [s.localAddress, s.localPort ?? 0]
    }
    return info
  }

  // Method, path and headers for node-asgi. HEAD goes as GET (node-asgi would drop the body and
  // with it the trailer); the wrapper gives the app HEAD back.
  #prepare (request, stream) {
    const t = request[kTarget]
    let info = this.#scopeInfo(request, t)
    if (stream) {
      info ??= {}
      info.t = 1
    }
    let method = request.method
    const head = method.length === 4 && method.toUpperCase() === 'HEAD'
    if (head) {
      info ??= {}
      info.m = method
      method = 'GET'
    }
    const rawHeaders = request.headers.toFlat()
    if (info !== null) rawHeaders.unshift(MARKER, JSON.stringify(info))
    return { method, path: t.path, rawHeaders, noBody: head }
  }

  #buffered (request, body) {
    const { method, path, rawHeaders, noBody } = this.#prepare(request, false)
    return this.#handler.handleRequest({ method, url: path, headers: rawHeaders, body }).then((res) => {
      const head = appHead(res.rawHeaders) ?? { status: res.status, headers: res.rawHeaders } // the wrapper marks only what it changed
      const { data, trailer } = decodeBody(res.body)
      if (trailer === null) throw new Error('node-asgi/platformatic: the ASGI app did not complete its response')
      if (head.status === 0 || !trailer.complete) throw failure(trailer)
      const response = Response[kCreate](head.status, head.headers, noBody || bodiless(method, head.status) ? EMPTY : data, null)
      if (trailer.log || trailer.error) response[kFinish](trailer.log, trailer.error && `${trailer.error.type}: ${trailer.error.pythonMessage}`)
      return response
    }, (err) => { throw this.#startError(err) })
  }

  // A start failure names the wrapper's import string: name the docroot and appTarget instead.
  #startError (err) {
    if (err instanceof PythonError && err.message.includes('platformatic_asgi:targets.')) {
      const error = new PythonError({ type: err.type, message: err.pythonMessage, traceback: err.traceback }, `node-asgi/platformatic: cannot load '${this.#appTarget}' from ${this.#docroot}`)
      return error
    }
    if (this.#closed && /handler (is )?clos/.test(err?.message)) return closedError()
    return err
  }
}

/** A streamed Response read to its end, as handleRequest() returns it. */
async function collect (streamed) {
  const chunks = []
  for await (const chunk of streamed) chunks.push(chunk)
  const response = Response[kCreate](streamed.status, streamed.headers.toFlat(), chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), null)
  response[kFinish](streamed.log.length ? streamed.log.toString() : '', streamed.exception)
  return response
}

module.exports = { Python, PythonHandler: Python, Request, Response, Headers, PythonError }
