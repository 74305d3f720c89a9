'use strict'
// handleStream()'s HTTP exchange: an in-memory request/response pair served by the handler's
// request listener (its node:http path: request body with backpressure, response written as the
// app sends it, client disconnect), the response body decoded into a streamed Response.
const { Readable } = require('node:stream')
const { EventEmitter } = require('node:events')
const { appHead, FrameReader } = require('./platformatic_frames')
const { Response, ResponseStream, kCreate, kFinish } = require('./platformatic_response')
const { kBody } = require('./platformatic_request')

const HIGH_WATER = 64 * 1024 // response bytes unread before the app's send() waits

/** The request side, as the listener reads an IncomingMessage. */
class InMemoryRequest extends Readable {
  constructor (method, url, rawHeaders, socket, body) {
    super()
    this.method = method
    this.url = url
    this.rawHeaders = rawHeaders
    this.httpVersion = '1.1'
    this.httpVersionMajor = 1
    this.httpVersionMinor = 1
    this.socket = socket
    this.connection = socket
    this.bodySource = body // BodyStream, or null once it all was pushed
  }

  get headers () {
    const out = {}
    for (let i = 0; i < this.rawHeaders.length; i += 2) out[this.rawHeaders[i].toLowerCase()] ??= this.rawHeaders[i + 1]
    return out
  }

  _read () { if (this.bodySource?.sink) this.bodySource.flush() }
}

/** The response side, as the listener writes a ServerResponse; `exchange` gets what it says. */
class InMemoryResponse extends EventEmitter {
  constructor (exchange) {
    super()
    this.exchange = exchange
    this.statusCode = 200
    this.headersSent = false
    this.writableEnded = false
    this.writableFinished = false
    this.destroyed = false
    this.socket = null
    this._sent100 = true // no Expect: 100-continue handling in memory
    this.rawHeaders = []
    this.headEmitted = false
    this.needDrain = false
  }

  getHeaderNames () { return [] }
  removeHeader () {}
  appendHeader () { return this }

  writeHead (status, headers) {
    this.statusCode = status
    if (Array.isArray(headers)) {
      this.rawHeaders = headers
    } else if (headers) {
      for (const [name, value] of Object.entries(headers)) this.rawHeaders.push(name, String(value))
    }
    this.headersSent = true
    return this
  }

  flushHeaders () {
    if (this.headEmitted || this.destroyed) return
    this.headEmitted = true
    this.exchange.onHead(this.statusCode, this.rawHeaders)
  }

  write (chunk, encoding) {
    if (this.destroyed || this.writableEnded) return true
    this.flushHeaders()
    if (typeof chunk === 'string') chunk = Buffer.from(chunk, encoding || 'utf8')
    if (chunk.length) this.exchange.onData(chunk)
    if (this.exchange.unread() > HIGH_WATER) {
      this.needDrain = true
      return false
    }
    return true
  }

  end (chunk, encoding) {
    if (this.destroyed || this.writableEnded) return this
    if (typeof chunk === 'function') chunk = undefined
    if (chunk !== undefined && chunk !== null) this.write(chunk, encoding)
    else this.flushHeaders()
    this.writableEnded = true
    this.writableFinished = true
    this.exchange.onEnd()
    this.emit('finish')
    this.emit('close')
    return this
  }

  /** The listener closes the exchange without completing the response. */
  destroy () {
    if (this.destroyed || this.writableFinished) return this
    this.destroyed = true
    this.exchange.onAbort()
    this.emit('close')
    return this
  }

  /** The reader left (cancelled or aborted): the app sees http.disconnect. */
  abandon () {
    if (this.destroyed || this.writableFinished) return
    this.destroyed = true
    this.emit('close')
  }

  /** The reader took data: a congested write() may go on. */
  maybeDrain () {
    if (this.needDrain && this.exchange.unread() <= HIGH_WATER) {
      this.needDrain = false
      this.emit('drain')
    }
  }
}

function hasHeader (flat, name) {
  for (let i = 0; i < flat.length; i += 2) if (flat[i].toLowerCase() === name) return true
  return false
}

/**
 * Runs `request` through `listener` (a handler's listener()). Resolves with a streamed Response
 * once the app started it; rejects with the app's error if it failed before that, or with
 * `signal.reason`. `failure(trailer)` makes the Error for a trailer that reports a failure.
 */
function exchange (listener, request, { method, path, rawHeaders, socket, noBody }, signal, failure) {
  return new Promise((resolve, reject) => {
    let response = null // the Response, once the head arrived
    let framed = true
    let failed = false // the wrapper's head for "no response started": wait for the trailer
    let settled = false
    const reader = new FrameReader()
    const settle = (fn, value) => {
      if (settled) return
      settled = true
      fn(value)
    }
    const done = () => signal?.removeEventListener('abort', onSignal) // the body ended (or failed)
    const stream = new ResponseStream(() => {
      done()
      res.abandon()
    }, () => res.maybeDrain())
    const res = new InMemoryResponse({
      onHead (status, flat) {
        const head = appHead(flat)
        if (head === null) {
          framed = false
          response = Response[kCreate](status, flat, null, stream)
        } else if (head.status === 0) {
          failed = true
          return
        } else {
          response = Response[kCreate](head.status, head.headers, null, stream)
        }
        settle(resolve, response)
      },
      onData (chunk) {
        if (!framed) stream.push(chunk)
        else for (const data of reader.push(chunk)) if (!noBody) stream.push(data)
      },
      onEnd () {
        body.detach()
        done()
        if (!framed) {
          stream.end()
          return
        }
        const trailer = reader.trailer
        if (trailer === null) {
          this.onAbort()
          return
        }
        if (failed || !trailer.complete) {
          const error = failure(trailer)
          settle(reject, error)
          stream.end(error)
          return
        }
        response[kFinish](trailer.log, trailer.error && `${trailer.error.type}: ${trailer.error.pythonMessage}`)
        stream.end()
      },
      onAbort () {
        body.detach()
        done()
        const error = new Error('node-asgi/platformatic: the ASGI app did not complete its response')
        settle(reject, error)
        stream.end(error)
      },
      unread () { return stream.queued }
    })
    const onSignal = () => {
      done()
      const reason = signal.reason
      settle(reject, reason)
      stream.end(reason)
      res.abandon()
    }

    const body = request[kBody]
    const fixed = request.body
    const headers = rawHeaders.slice()
    const streamed = body.used
    if ((fixed.length > 0 || streamed) && !hasHeader(headers, 'content-length') && !hasHeader(headers, 'transfer-encoding')) {
      if (streamed) headers.push('transfer-encoding', 'chunked')
      else headers.push('content-length', String(fixed.length))
    }
    const req = new InMemoryRequest(method, path, headers, socket, streamed ? body : null)
    if (fixed.length > 0) req.push(fixed)
    if (streamed) body.attach({ data: (chunk) => req.push(chunk), end: () => req.push(null) })
    else req.push(null)
    res.on('close', () => { if (!res.writableFinished) body.detach() })

    if (signal) {
      if (signal.aborted) {
        onSignal()
        return
      }
      signal.addEventListener('abort', onSignal, { once: true })
    }
    listener(req, res)
  })
}

module.exports = { exchange }
