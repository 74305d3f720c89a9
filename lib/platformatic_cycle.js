'use strict'
// handleStream()'s HTTP cycle, served by handler.serveInProcess(): the request body goes to the
// loop thread as the app receives it (write() waits while it is unread), the framed response
// (lib/platformatic_asgi.py) is decoded into a streamed Response whose reader paces the app's
// send(). The reader leaving or an AbortSignal is http.disconnect for the app. JS thread only.
const { MORE_BODY, WANTS_DRAIN, bodyBuffer, watchAbort } = require('./native')
const { appHead, FrameReader } = require('./platformatic_frames')
const { Response, ResponseStream, kCreate, kFinish } = require('./platformatic_response')

class PlatformaticCycle {
  /**
   * @param head { method, scheme, target, rawHeaders, client, server, fixed: Buffer, body: BodyStream | null, noBody, signal }
   * @param failure (trailer) → the Error a failure trailer stands for
   */
  constructor (handler, id, head, failure, resolve, reject) {
    this.handler = handler
    this.id = id
    this.head = head
    this.failure = failure
    this.resolve = resolve
    this.reject = reject
    this.reader = new FrameReader()
    this.stream = new ResponseStream(() => this.cancelled(), () => this.read())
    this.response = null
    this.framed = true // false for a response node-asgi made itself (no wrapper head)
    this.noResponse = false // the wrapper's head for "the app started no response": the trailer says why
    this.started = false
    this.settled = false
    this.ended = false // the stream ended (or errored)
    this.done = false // the app's ASGI call returned
    this.disconnected = false
    this.drainOwed = false // the app's send() waits until the reader takes what is queued
    this.unacked = 0 // request bytes handed to Python since the app last asked for more
    this.appError = null
    this.onAbort = null
  }

  begin (native) {
    const h = this.head
    const bodyComplete = h.fixed.length === 0 && h.body === null
    native.startHttp(this.id, h.method, h.scheme, '1.1', h.target, this.handler.options.rootPath, h.rawHeaders,
      h.client?.[0] ?? null, h.client?.[1] ?? 0, h.server?.[0] ?? null, h.server?.[1] ?? 0, bodyComplete)
    if (watchAbort(this, h.signal)) return
    if (bodyComplete) return
    if (h.fixed.length > 0) this.sendBody(h.fixed, h.body !== null)
    if (h.body === null) return
    h.body.attach({
      data: (chunk) => this.sendBody(chunk, true),
      end: () => { if (!this.disconnected && !this.done) native.body(this.id, null, false, false) }
    })
  }

  // A chunk of the request body for the app; false once the app has enough unreceived (write() waits).
  sendBody (chunk, more) {
    if (this.disconnected || this.done) return true // nobody reads it any more
    this.unacked += chunk.length
    const pause = this.unacked >= this.handler.options.requestHighWater
    this.handler.native.body(this.id, chunk, more, pause && more)
    return !pause
  }

  onResume () {
    this.unacked = 0
    if (this.head.body?.sink) this.head.body.flush()
  }

  onResponseStart (status, rawHeaders) {
    if (this.disconnected) return
    this.started = true
    const head = appHead(rawHeaders)
    if (head === null) {
      this.framed = false
      this.response = Response[kCreate](status, rawHeaders, null, this.stream)
    } else if (head.status === 0) {
      this.noResponse = true
    } else {
      this.response = Response[kCreate](head.status, head.headers, null, this.stream)
    }
  }

  /** After the batch with the response head: handleStream() resolves. */
  flushHead () {
    if (this.settled || this.response === null || this.disconnected) return
    this.settled = true
    this.resolve(this.response)
  }

  onResponseBody (chunk, flags) {
    const last = (flags & MORE_BODY) === 0
    if ((flags & WANTS_DRAIN) !== 0) {
      if (this.disconnected || last || this.stream.queued <= this.handler.options.responseHighWater) this.handler.native.drained(this.id)
      else this.drainOwed = true // acknowledged when the reader takes the queue
    }
    if (this.disconnected) return
    const buf = bodyBuffer(chunk)
    if (!this.framed) {
      if (buf.length) this.stream.push(buf)
    } else {
      for (const data of this.reader.push(buf)) if (!this.head.noBody) this.stream.push(data)
    }
    if (last) this.complete()
  }

  // The final body arrived: the trailer says whether the app succeeded.
  complete () {
    this.head.body?.detach()
    if (!this.framed) {
      this.end(null)
      return
    }
    const trailer = this.reader.trailer
    if (trailer === null) {
      this.end(new Error('node-asgi: the ASGI app did not complete its response'))
    } else if (this.noResponse || !trailer.complete) {
      this.end(this.failure(trailer))
    } else {
      this.response[kFinish](trailer.log, trailer.error && `${trailer.error.type}: ${trailer.error.pythonMessage}`)
      this.end(null)
    }
  }

  // Settles handleStream() (with `error`) if not yet, else ends (or errors) the body stream.
  end (error) {
    if (this.ended) return
    this.ended = true
    this.unwatchSignal()
    if (!this.settled) {
      this.settled = true
      if (this.response === null || this.disconnected) {
        this.reject(error ?? new Error('node-asgi: the ASGI app did not complete its response'))
        return
      }
      this.resolve(this.response) // the head came in this batch: the body (and its error) follow it
    }
    this.stream.end(error)
  }

  read () {
    if (this.drainOwed && this.stream.queued <= this.handler.options.responseHighWater) {
      this.drainOwed = false
      if (!this.done && !this.disconnected) this.handler.native.drained(this.id)
    }
  }

  // The reader stopped before the end: the app sees http.disconnect.
  cancelled () {
    this.ended = true
    this.disconnect()
    this.unwatchSignal()
  }

  disconnect () {
    if (this.disconnected) return
    this.disconnected = true
    this.drainOwed = false
    this.head.body?.detach()
    if (!this.done) this.handler.native.disconnect(this.id)
  }

  abort (reason) {
    this.disconnect()
    this.end(reason)
  }

  unwatchSignal () {
    if (this.onAbort === null) return
    this.head.signal.removeEventListener('abort', this.onAbort)
    this.onAbort = null
  }

  onAppError (error) {
    this.appError = error // the wrapper reports the app's own errors in its trailer: this is the wrapper's
  }

  onDone (abort) {
    this.done = true
    this.head.body?.detach()
    if (abort || !this.ended) {
      const error = this.appError ?? new Error('node-asgi: the ASGI app did not complete its response')
      this.end(error)
    }
  }

  /** The handler cannot serve (closed, failed to start, loop thread gone). */
  fail (error) {
    this.done = true
    this.head.body?.detach()
    this.end(error)
  }
}

/** Runs one request; resolves with the streamed Response once the app started it. */
function streamThrough (handler, head, failure) {
  if (head.signal?.aborted) return Promise.reject(head.signal.reason)
  return new Promise((resolve, reject) => {
    handler.serveInProcess((id) => new PlatformaticCycle(handler, id, head, failure, resolve, reject))
  })
}

module.exports = { streamThrough }
