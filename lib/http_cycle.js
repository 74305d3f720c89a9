'use strict'
// One HTTP request's JS half: feeds the request body to the loop thread (pausing above a
// high-water mark until the app receives) and writes the app's response as it arrives (telling
// the app to wait while the socket is congested). JS thread only.
const { STATUS_CODES, IncomingMessage, ServerResponse } = require('node:http')
const { MORE_BODY, WANTS_DRAIN, bodyBuffer } = require('./native')

/** Whether a request has a body, from its raw headers (req.headers would build an object). */
function hasRequestBody (rawHeaders) {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]
    if (name.length === 14) {
      if (name.toLowerCase() === 'content-length') return rawHeaders[i + 1] !== '0' // Node keeps the first
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      return true
    }
  }
  return false
}

// node:http's own test for an Expect header asking for 100 Continue.
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i

/**
 * Whether the client waits for `100 Continue` before sending the body and nobody sent it yet:
 * node:http sends it by itself before 'request' unless the request came through a
 * 'checkContinue' listener (then `res._sent100` is still false).
 */
function awaitsContinue (req, res) {
  if (res._sent100 !== false || req.httpVersionMajor !== 1 || req.httpVersionMinor !== 1) return false
  const { rawHeaders } = req
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === 6 && rawHeaders[i].toLowerCase() === 'expect') return CONTINUE.test(rawHeaders[i + 1])
  }
  return false
}

function responseHasNoBody (method, status) {
  return method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)
}

function declaredLength (flatHeaders) {
  for (let i = 0; i < flatHeaders.length; i += 2) {
    const name = flatHeaders[i]
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const n = Number(flatHeaders[i + 1])
      return Number.isSafeInteger(n) && n >= 0 ? n : null
    }
  }
  return null
}

/** Flat [name, value, ...] headers as an object: lower-cased names, repeated ones (and set-cookie) as arrays. */
function headersObject (rawHeaders) {
  const headers = {}
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase()
    const value = rawHeaders[i + 1]
    const prior = headers[name]
    if (prior === undefined) headers[name] = name === 'set-cookie' ? [value] : value
    else if (Array.isArray(prior)) prior.push(value)
    else headers[name] = [prior, value]
  }
  return headers
}

/** A short text/plain response that also closes the connection (the request body may be unread). */
function respondPlain (res, status) {
  const body = STATUS_CODES[status]
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' })
  res.end(body)
}

/** Serves a node:http (or Express) request/response pair. */
class NodeHttpCycle {
  constructor (handler, id, req, res) {
    this.handler = handler
    this.id = id
    this.req = req
    this.res = res
    this.unacked = 0 // request bytes handed to Python since the app last asked for more
    this.received = 0 // request body bytes so far
    this.declared = null // response Content-Length, when the app set one
    this.written = 0
    this.noBody = false
    this.started = false // the app's http.response.start arrived
    this.headPending = false // the head is computed but waits for a body to share its write
    this.disconnected = false
    this.aborted = false
    this.done = false
    this.onData = null // bound listeners, only when the request has a body
    this.onEnd = null
    this.awaitingContinue = false // Expect: 100-continue, body not asked for yet (listeners not set)
    this.onClose = this.onClose.bind(this)
  }

  begin (native, rootPath) {
    const { req, res } = this
    const socket = req.socket
    const bodyComplete = req.readableEnded || !hasRequestBody(req.rawHeaders)
    native.startHttp(this.id, req.method, socket.encrypted ? 'https' : 'http', req.httpVersion, req.url, rootPath,
      req.rawHeaders, socket.remoteAddress ?? null, socket.remotePort ?? 0, socket.localAddress ?? null,
      socket.localPort ?? 0, bodyComplete)
    if (!bodyComplete) {
      this.onData = (chunk) => this.data(chunk)
      this.onEnd = () => this.handler.native.body(this.id, null, false, false)
      if (awaitsContinue(req, res)) {
        // Like uvicorn: the 100 goes out when the app first calls receive(), which finds the body
        // paused and asks for it (onResume). Until then nothing is read.
        this.awaitingContinue = true
        native.body(this.id, null, true, true)
      } else {
        req.on('data', this.onData)
        req.on('end', this.onEnd)
      }
    }
    res.on('close', this.onClose)
  }

  data (chunk) {
    this.received += chunk.length
    const max = this.handler.options.maxRequestBodySize
    if (max !== null && this.received > max) {
      this.tooLarge()
      return
    }
    this.unacked += chunk.length
    const pause = this.unacked >= this.handler.options.requestHighWater
    if (pause) this.req.pause()
    this.handler.native.body(this.id, chunk, true, pause)
  }

  onResume () {
    this.unacked = 0
    if (this.awaitingContinue) {
      this.awaitingContinue = false
      // Never once the response started (uvicorn); node:http then closes the connection after it.
      if (!this.started && !this.disconnected && !this.res.headersSent) this.res.writeContinue()
      this.req.on('data', this.onData)
      this.req.on('end', this.onEnd)
      return
    }
    this.req.resume()
  }

  // A body without Content-Length grew past maxRequestBodySize: the app sees http.disconnect and
  // the client a 413 (or, when the app already responded, a closed connection).
  tooLarge () {
    const { req, res } = this
    req.off('data', this.onData) // only reached from data(): the listeners are set
    req.off('end', this.onEnd)
    req.pause()
    this.disconnected = true
    this.aborted = true
    this.handler.native.disconnect(this.id)
    if (this.started || res.headersSent) res.destroy()
    else respondPlain(res, 413)
  }

  onClose () {
    if (this.done || this.res.writableFinished || this.disconnected) return
    this.disconnected = true
    this.handler.native.disconnect(this.id)
  }

  onResponseStart (status, headers) {
    if (this.disconnected) return
    this.started = true
    this.noBody = responseHasNoBody(this.req.method, status)
    this.declared = this.noBody ? null : declaredLength(headers)
    try {
      const { res } = this
      if (res.getHeaderNames().length === 0) {
        res.writeHead(status, headers)
      } else {
        // Headers set before us (Express's X-Powered-By...): writeHead(array) would merge with
        // setHeader() and keep only the last of repeated names. The app's names replace them.
        for (let i = 0; i < headers.length; i += 2) res.removeHeader(headers[i])
        for (let i = 0; i < headers.length; i += 2) res.appendHeader(headers[i], headers[i + 1])
        res.writeHead(status)
      }
    } catch (err) {
      this.abort(`cannot send the response head: ${err.message}`)
      return
    }
    this.headPending = true // sent with the first body, or by flushHead() if none came in this batch
  }

  /** After a batch of events: a head whose body has not arrived yet goes out now (like uvicorn). */
  flushHead () {
    if (!this.headPending) return
    this.headPending = false
    if (!this.disconnected && !this.aborted) this.res.flushHeaders()
  }

  onResponseBody (chunk, flags) {
    this.headPending = false
    if (this.disconnected || this.aborted) {
      if (flags & WANTS_DRAIN) this.handler.native.drained(this.id)
      return
    }
    const { res } = this
    if (this.declared !== null && this.written + chunk.length > this.declared) {
      const fits = this.declared - this.written
      if (fits > 0) res.write(bodyBuffer(chunk).subarray(0, fits))
      this.abort('Response content longer than Content-Length')
      return
    }
    this.written += chunk.length
    if (!(flags & MORE_BODY)) {
      if (this.declared !== null && this.written < this.declared) {
        if (chunk.length) res.write(chunk, 'latin1')
        this.abort('Response content shorter than Content-Length')
        return
      }
      if (chunk.length) res.end(chunk, 'latin1')
      else res.end()
      return
    }
    const ok = chunk.length === 0 || res.write(chunk, 'latin1')
    if (flags & WANTS_DRAIN) {
      if (ok) this.handler.native.drained(this.id)
      else res.once('drain', () => this.handler.native.drained(this.id))
    }
  }

  onDone (abort) {
    this.done = true
    if (this.onData !== null) this.req.off('data', this.onData)
    if (abort && !this.aborted) this.abort(null)
  }

  /** Closes the connection without completing the response (what was already written is flushed). */
  abort (reason) {
    if (this.aborted) return
    this.aborted = true
    if (reason) this.handler.logger.error(reason)
    const { res } = this
    if (!this.disconnected) {
      this.disconnected = true
      this.handler.native.disconnect(this.id)
    }
    if (!this.started) {
      res.destroy() // nothing of the response exists yet: just drop the connection
      return
    }
    res.flushHeaders() // headersSent only means "head computed": make sure it is on the wire
    const socket = res.socket
    if (socket && !socket.destroyed) socket.end()
    else res.destroy()
  }

  /** The loop thread is gone: answer 503 if nothing was sent, else close the connection. */
  fail () {
    this.done = true
    const { res } = this
    if (this.disconnected || res.writableEnded) return
    if (!res.headersSent) {
      const body = 'Service Unavailable'
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length, connection: 'close' })
      res.end(body)
    } else {
      this.abort(null)
    }
  }
}

/**
 * Serves a request node:http handed to an 'upgrade' listener but that asks for no WebSocket
 * (`Upgrade: h2c`...) as plain HTTP, as uvicorn does and as node:http would without that
 * listener: `listener(req, res)` with a ServerResponse on the socket. node:http detached its
 * parser, so the request is rebuilt with its Content-Length body read from `head` and the socket;
 * the connection closes after the response. A chunked body cannot be decoded here: 501.
 */
function serveUpgradeAsHttp (req, socket, head, listener) {
  const request = new IncomingMessage(socket)
  request.httpVersionMajor = req.httpVersionMajor
  request.httpVersionMinor = req.httpVersionMinor
  request.httpVersion = req.httpVersion
  request.method = req.method
  request.url = req.url
  request.rawHeaders = req.rawHeaders // request.headers is built from them
  request.upgrade = req.upgrade
  const res = new ServerResponse(request, { highWaterMark: socket.writableHighWaterMark })
  res.shouldKeepAlive = false
  res.assignSocket(socket)
  res.on('finish', () => {
    res.detachSocket(socket)
    socket.destroySoon()
    process.nextTick(() => res.emit('close'))
  })
  socket.on('error', () => {}) // node:http removed its own; 'close' follows and closes `res`
  // The client half-closed: like node:http (httpAllowHalfOpen off), end our side too.
  socket.on('end', () => { if (socket.writable) socket.end() })
  if (req.headers['transfer-encoding'] !== undefined) {
    request.complete = true
    request.push(null)
    respondPlain(res, 501)
    socket.resume() // read (and drop) the body so that the client sees the response
    return
  }
  let remaining = Number(req.headers['content-length'] ?? 0) // node:http's parser validated it
  const onData = (chunk) => {
    if (remaining === 0) return // bytes after the body: dropped (the connection closes)
    if (chunk.length > remaining) chunk = chunk.subarray(0, remaining)
    remaining -= chunk.length
    const more = request.push(chunk)
    if (remaining === 0) {
      request.complete = true
      request.push(null)
    } else if (!more) {
      socket.pause() // IncomingMessage#_read resumes the socket when the app reads again
    }
  }
  if (remaining === 0) {
    request.complete = true
    request.push(null)
  } else if (head.length) {
    onData(head)
  }
  socket.on('data', onData) // also after the body: to see the client leave
  listener(request, res)
}

/** Serves handleRequest(): the response is collected in memory. */
class BufferedHttpCycle {
  constructor (handler, id, method, resolve, reject) {
    this.handler = handler
    this.id = id
    this.method = method
    this.resolve = resolve
    this.reject = reject
    this.status = 0
    this.rawHeaders = []
    this.chunks = []
    this.error = null
    this.done = false
  }

  begin (native, { method, url, rawHeaders, body, rootPath }) {
    const bodyComplete = body.length === 0
    native.startHttp(this.id, method, 'http', '1.1', url, rootPath, rawHeaders, null, 0, null, 0, bodyComplete)
    if (!bodyComplete) native.body(this.id, body, false, false)
  }

  onResume () {}

  flushHead () {}

  onResponseStart (status, headers) {
    this.status = status
    this.rawHeaders = headers
  }

  onResponseBody (chunk, flags) {
    if (chunk.length) this.chunks.push(bodyBuffer(chunk))
    if (flags & WANTS_DRAIN) this.handler.native.drained(this.id)
  }

  onAppError (error) {
    this.error = error
  }

  onDone (abort) {
    this.done = true
    if (abort) {
      const incomplete = new Error('node-asgi: the ASGI app did not complete its response')
      this.reject(this.error ? Object.assign(this.error, { incomplete: true }) : incomplete)
      return
    }
    const headers = headersObject(this.rawHeaders)
    const body = responseHasNoBody(this.method, this.status) ? Buffer.alloc(0) : Buffer.concat(this.chunks)
    this.resolve({ status: this.status, headers, rawHeaders: this.rawHeaders, body })
  }

  fail (error) {
    this.done = true
    this.reject(error)
  }
}

module.exports = { NodeHttpCycle, BufferedHttpCycle, respondPlain, serveUpgradeAsHttp, headersObject, responseHasNoBody, declaredLength }
