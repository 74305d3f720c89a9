'use strict'
// handler.fetch(): one WHATWG Request through the app in-process, answered with a WHATWG Response
// whose body streams as the app sends it. Backpressure both ways: the request body is read only as
// the app's receive() asks for it; the app's send() waits while the Response body is not read.
// JS thread only.
const { STATUS_CODES } = require('node:http')
const { MORE_BODY, WANTS_DRAIN, bodyBuffer, watchAbort } = require('./native')
const { responseHasNoBody, declaredLength } = require('./http_cycle')
const { describe } = require('./options')
const { address, rootPathOption, checkKeys } = require('./inprocess_options')
const { BufferedResponse } = require('./fetch_response')

const FETCH_OPTIONS = ['rootPath', 'client']

/** A WHATWG Request: Node's global one, or one from another copy of undici (same shape). */
function isRequest (value) {
  if (value instanceof Request) return true
  return value !== null && typeof value === 'object' && typeof value.url === 'string' && typeof value.method === 'string' &&
    typeof value.headers?.[Symbol.iterator] === 'function' && 'body' in value && typeof value.bodyUsed === 'boolean'
}

/** The request head for the loop thread, from a Request and fetch()'s options (errors name the field). */
function fetchHead (handler, request, options) {
  if (!isRequest(request)) throw new TypeError(`node-asgi: fetch() 'request' must be a Request (the WHATWG Request of Node's fetch), got ${describe(request)}`)
  if (options === undefined || options === null) {
    options = {}
  } else if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`node-asgi: fetch() 'options' must be an object such as { rootPath, client }, got ${describe(options)}`)
  } else {
    checkKeys(options, FETCH_OPTIONS, 'fetch() option')
  }
  if (request.bodyUsed || request.body?.locked) throw new TypeError("node-asgi: fetch() 'request' body is already used (read or locked)")
  let url
  try {
    url = new URL(request.url)
  } catch {
    throw new TypeError(`node-asgi: fetch() 'request.url' must be an absolute URL, got ${describe(request.url)}`)
  }
  const scheme = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : null
  if (scheme === null) throw new TypeError(`node-asgi: fetch() 'request.url' must be an http: or https: URL, got ${describe(request.url)}`)
  const rawHeaders = []
  let hasHost = false
  for (const [name, value] of request.headers) {
    if (name === 'host') hasHost = true
    rawHeaders.push(name, value)
  }
  if (!hasHost) rawHeaders.unshift('host', url.host) // what a client sends; Request keeps none
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return {
    method: request.method,
    scheme,
    target: url.pathname + url.search,
    rawHeaders,
    rootPath: rootPathOption(options.rootPath, handler.options.rootPath),
    client: address('client', options.client),
    server: [hostname, url.port === '' ? (scheme === 'https' ? 443 : 80) : Number(url.port)],
    body: request.body,
    signal: request.signal ?? null
  }
}

class FetchCycle {
  constructor (handler, id, head, resolve, reject) {
    this.handler = handler
    this.id = id
    this.head = head
    this.resolve = resolve
    this.reject = reject
    this.status = 0
    this.rawHeaders = null
    this.noBody = false
    this.declared = null // the response Content-Length, when the app set one
    this.written = 0
    this.chunks = [] // body chunks that arrived before the Response was made (same event batch)
    this.started = false // http.response.start arrived
    this.settled = false // the fetch() promise was resolved or rejected
    this.complete = false // the final body arrived (or the body stream ended otherwise)
    this.ended = false // the body stream is closed or errored: no more controller calls
    this.controller = null // the Response body stream's, once it exists
    this.drainOwed = false // the app waits for a drain acknowledgement until the reader pulls
    this.disconnected = false // the app was told http.disconnect
    this.done = false // the app's ASGI call returned
    this.appError = null
    this.reader = null // the request body's reader while it is being read
    this.resumeWaiter = null // set while the request body waits for the app to receive
    this.unacked = 0 // request bytes handed to Python since the app last asked for more
    this.onAbort = null
  }

  begin (native) {
    const h = this.head
    const bodyComplete = h.body === null
    native.startHttp(this.id, h.method, h.scheme, '1.1', h.target, h.rootPath, h.rawHeaders,
      h.client?.[0] ?? null, h.client?.[1] ?? 0, h.server[0], h.server[1], bodyComplete)
    if (watchAbort(this, h.signal)) return
    if (!bodyComplete) this.pump()
  }

  // -- the request body -----------------------------------------------------------------------

  async pump () {
    const reader = this.reader = this.head.body.getReader()
    const high = this.handler.options.requestHighWater
    try {
      while (!this.disconnected && !this.done) {
        const { done, value } = await reader.read()
        if (this.disconnected || this.done) break
        if (done) {
          this.reader = null
          this.handler.native.body(this.id, null, false, false)
          return
        }
        if (!(value instanceof Uint8Array)) throw new TypeError(`node-asgi: fetch() request body chunks must be Uint8Array, got ${describe(value)}`)
        if (value.byteLength === 0) continue
        this.unacked += value.byteLength
        const pause = this.unacked >= high
        this.handler.native.body(this.id, Buffer.from(value.buffer, value.byteOffset, value.byteLength), true, pause)
        if (pause) await new Promise((resolve) => { this.resumeWaiter = resolve })
      }
    } catch (err) {
      if (!this.disconnected && !this.done) this.abort(new TypeError('node-asgi: fetch() could not read the request body', { cause: err }))
    }
    this.stopBody()
  }

  onResume () {
    this.unacked = 0
    const resume = this.resumeWaiter
    this.resumeWaiter = null
    resume?.()
  }

  // Stops reading the request body (the app answered, or the request ended): its source is cancelled.
  stopBody () {
    const reader = this.reader
    if (reader === null) return
    this.reader = null
    reader.cancel().catch(() => {})
    this.onResume()
  }

  // -- the response ---------------------------------------------------------------------------

  onResponseStart (status, headers) {
    if (this.disconnected) return
    this.started = true
    this.status = status
    this.rawHeaders = headers
    this.noBody = responseHasNoBody(this.head.method, status) || status === 205 // Response allows no body for these
    this.declared = this.noBody ? null : declaredLength(headers)
  }

  onResponseBody (chunk, flags) {
    const wantsDrain = (flags & WANTS_DRAIN) !== 0
    const last = (flags & MORE_BODY) === 0
    if (this.disconnected || this.noBody) {
      if (wantsDrain) this.handler.native.drained(this.id)
      if (last) this.complete = true
      return
    }
    this.written += chunk.length
    if (this.declared !== null && (this.written > this.declared || (last && this.written < this.declared))) {
      if (wantsDrain) this.handler.native.drained(this.id)
      this.abort(new Error(`node-asgi: the app's response body is ${this.written > this.declared ? 'longer' : 'shorter'} than its Content-Length (${this.declared})`))
      return
    }
    const controller = this.controller
    if (controller === null) { // the Response is made at the end of this event batch (flushHead)
      if (chunk.length) this.chunks.push(bodyBuffer(chunk))
      if (wantsDrain) this.drainOwed = true
      if (last) this.complete = true
      return
    }
    if (chunk.length) controller.enqueue(bodyBuffer(chunk))
    if (last) {
      this.complete = true
      this.endWhenRead()
    }
    if (wantsDrain) {
      if (last || controller.desiredSize > 0) this.handler.native.drained(this.id)
      else this.drainOwed = true // acknowledged when the reader pulls
    }
  }

  /** After the batch of events with the response head: resolves fetch() with the Response. */
  flushHead () {
    if (this.settled || !this.started || this.disconnected) return
    const { status } = this
    let response
    try {
      const headers = new Headers()
      for (let i = 0; i < this.rawHeaders.length; i += 2) headers.append(this.rawHeaders[i], this.rawHeaders[i + 1])
      const init = { status, statusText: STATUS_CODES[status] ?? '', headers }
      if (this.noBody) {
        response = new Response(null, init)
      } else if (this.complete) { // the whole body came with the head: no stream unless asked for
        response = new BufferedResponse(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks), init)
      } else {
        response = new Response(new ReadableStream({
          start: (controller) => { this.controller = controller },
          pull: () => this.pull(),
          cancel: () => this.cancelled()
        }, { highWaterMark: this.handler.options.responseHighWater, size: (chunk) => chunk.byteLength }), init)
      }
    } catch (err) {
      this.abort(new Error(`node-asgi: fetch() cannot represent the app's response (status ${status}) as a Response: ${err.message}`, { cause: err }))
      return
    }
    const controller = this.controller
    if (controller !== null) for (const chunk of this.chunks) controller.enqueue(chunk)
    this.chunks = []
    if (this.drainOwed && (controller === null || controller.desiredSize > 0)) {
      this.drainOwed = false
      this.handler.native.drained(this.id)
    }
    this.settled = true
    this.resolve(response)
  }

  pull () {
    if (this.complete) this.endWhenRead()
    if (!this.drainOwed) return
    this.drainOwed = false
    if (!this.done) this.handler.native.drained(this.id)
  }

  // The whole body is queued: the stream closes once its queue is read, so that until then an
  // abort still errors it (as fetch() does) — the signal is watched until the stream ends.
  endWhenRead () {
    if (this.ended || this.controller.desiredSize < this.handler.options.responseHighWater) return
    this.ended = true
    this.controller.close()
    if (this.done) this.unwatchSignal()
  }

  unwatchSignal () {
    if (this.onAbort === null) return
    this.head.signal.removeEventListener('abort', this.onAbort)
    this.onAbort = null
  }

  // The reader cancelled the body: like a client that goes away, the app sees http.disconnect.
  cancelled () {
    this.complete = true
    this.ended = true
    this.drainOwed = false
    this.disconnect()
    if (this.done) this.unwatchSignal()
  }

  disconnect () {
    if (this.disconnected) return
    this.disconnected = true
    if (!this.done) this.handler.native.disconnect(this.id)
    this.stopBody()
  }

  /** The request ends before its response: the app sees http.disconnect; fetch() or the body stream gets `error`. */
  abort (error) {
    this.disconnect()
    this.settleWithError(error)
  }

  settleWithError (error) {
    if (!this.settled) {
      this.settled = true
      this.chunks = []
      this.reject(error)
    } else if (this.controller !== null && !this.ended) {
      this.complete = this.ended = true
      this.controller.error(error)
    }
    if (this.done) this.unwatchSignal()
  }

  onAppError (error) {
    this.appError = error
  }

  onDone (abort) {
    this.done = true
    if (this.controller === null || this.ended) this.unwatchSignal() // else: when the stream ends
    this.stopBody()
    if (abort) {
      const error = this.appError ? Object.assign(this.appError, { incomplete: true }) : new Error('node-asgi: the ASGI app did not complete its response')
      this.settleWithError(error)
    } else if (!this.started) {
      this.settleWithError(new Error('node-asgi: the ASGI app returned without a response'))
    }
    // else: flushHead() delivers a head that came in this batch
  }

  /** The handler cannot serve (closed, failed to start, loop thread gone). */
  fail (error) {
    this.done = true
    this.stopBody()
    this.settleWithError(error)
    this.unwatchSignal()
  }
}

/**
 * handler.fetch(request, options): see README.md. Rejects with a TypeError naming a bad argument,
 * the signal's reason when the request is aborted first, or the handler's error when it is closed.
 */
function fetchThrough (handler, request, options) {
  let head
  try {
    head = fetchHead(handler, request, options)
  } catch (err) {
    return Promise.reject(err)
  }
  if (head.signal?.aborted) return Promise.reject(head.signal.reason)
  return new Promise((resolve, reject) => {
    handler.serveInProcess((id) => new FetchCycle(handler, id, head, resolve, reject))
  })
}

module.exports = { fetchThrough, FetchCycle }
