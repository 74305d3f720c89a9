'use strict'
// Response of node-asgi/platformatic: status, headers, body, log and exception as
// @platformatic/python-node documents them; a streamed response (handleStream) is also an async
// iterator of body chunks, and next() resolves to the next chunk or null at the end.
const { Headers, describe } = require('./platformatic_headers')

const kCreate = Symbol('node-asgi.platformatic.create')
const kFinish = Symbol('node-asgi.platformatic.finish')
const EMPTY = Buffer.alloc(0)

/**
 * The chunks of a streamed response: the exchange push()es them, the reader takes them with
 * next(); close() (the reader stopped) calls `onCancel` once. `onRead` runs when the queue empties
 * (the exchange may resume the app).
 */
class ResponseStream {
  constructor (onCancel, onRead) {
    this.queue = []
    this.queued = 0 // bytes in the queue
    this.done = false
    this.error = null
    this.waiter = null // { resolve, reject } of a pending next()
    this.onCancel = onCancel
    this.onRead = onRead
    this.cancelled = false
  }

  push (chunk) {
    if (this.done || this.cancelled) return
    if (this.waiter !== null) {
      const { resolve } = this.waiter
      this.waiter = null
      resolve(chunk)
      return
    }
    this.queue.push(chunk)
    this.queued += chunk.length
  }

  end (error = null) {
    if (this.done) return
    this.done = true
    this.error = error
    if (this.waiter !== null) {
      const { resolve, reject } = this.waiter
      this.waiter = null
      if (error) reject(error)
      else resolve(null)
    }
  }

  next () {
    if (this.queue.length > 0) {
      const chunk = this.queue.shift()
      this.queued -= chunk.length
      if (this.queue.length === 0) this.onRead?.()
      return Promise.resolve(chunk)
    }
    if (this.done || this.cancelled) {
      if (this.error) {
        const error = this.error
        this.error = null // reported once; later calls see the end
        return Promise.reject(error)
      }
      return Promise.resolve(null)
    }
    if (this.waiter !== null) return Promise.reject(new Error('node-asgi/platformatic: next() called again before the previous call resolved'))
    this.onRead?.()
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject } })
  }

  /** The reader is done before the end: drop what is queued and tell the exchange. */
  cancel () {
    if (this.done || this.cancelled) return
    this.cancelled = true
    this.queue = []
    this.queued = 0
    this.onCancel?.()
  }
}

function statusOption (status) {
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new TypeError(`node-asgi/platformatic: response 'status' must be an integer from 100 to 999, got ${describe(status)}`)
  return status
}

function bufferOption (value, name) {
  if (value === undefined || value === null) return null
  if (Buffer.isBuffer(value)) return value
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (typeof value === 'string') return Buffer.from(value)
  throw new TypeError(`node-asgi/platformatic: response '${name}' must be a Buffer, Uint8Array or string, got ${describe(value)}`)
}

class Response {
  #status = 200
  #headers = null // Headers, made on first use from #flat
  #flat = null
  #body = null
  #log = EMPTY
  #exception = null
  #stream = null // ResponseStream of a streamed response
  #readBuffered = false

  /** @param {import('../platformatic').ResponseOptions} [options] */
  constructor (options) {
    if (options === undefined || options === null) return
    if (typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`node-asgi/platformatic: new Response() expects an options object { status, headers, body, log, exception }, got ${describe(options)}`)
    if (options.status !== undefined) this.#status = statusOption(options.status)
    this.#headers = new Headers(options.headers)
    this.#body = bufferOption(options.body, 'body')
    this.#log = bufferOption(options.log, 'log') ?? EMPTY
    if (options.exception !== undefined && options.exception !== null && typeof options.exception !== 'string') {
      throw new TypeError(`node-asgi/platformatic: response 'exception' must be a string, got ${describe(options.exception)}`)
    }
    this.#exception = options.exception ?? null
  }

  /** (internal) a response the app sent: flat headers, a Buffer body or a ResponseStream. */
  static [kCreate] (status, flat, body, stream) {
    const res = new Response()
    res.#status = status
    res.#flat = flat
    res.#body = body
    res.#stream = stream
    return res
  }

  /** (internal) what the app's trailer said: its log and exception. */
  [kFinish] (log, exception) {
    if (log) this.#log = Buffer.from(log)
    this.#exception = exception
  }

  get status () { return this.#status }
  set status (status) { this.#status = statusOption(status) }

  get headers () {
    if (this.#headers === null) this.#headers = this.#flat === null ? new Headers() : Headers.fromFlat(this.#flat)
    return this.#headers
  }

  set headers (headers) {
    if (!(headers instanceof Headers)) throw new TypeError(`node-asgi/platformatic: response 'headers' must be a Headers, got ${describe(headers)}`)
    this.#headers = headers
  }

  /** The buffered body; null for a streamed response (read it with next() or for await). */
  get body () { return this.#stream !== null ? null : (this.#body ?? EMPTY) }
  set body (body) { this.#body = bufferOption(body, 'body') }

  /** What the app logged while serving this request (Python logging records and, after an
   * exception, its traceback). For a streamed response: complete once the body has ended. */
  get log () { return this.#log }

  /** "Type: message" of an exception the app raised after completing its response, else null. */
  get exception () { return this.#exception }

  /** The next chunk of the body, or null at the end; rejects if the app failed mid-body. */
  next () {
    if (this.#stream !== null) return this.#stream.next()
    if (this.#readBuffered) return Promise.resolve(null)
    this.#readBuffered = true
    const body = this.#body ?? EMPTY
    return Promise.resolve(body.length > 0 ? body : null)
  }

  [Symbol.asyncIterator] () {
    return {
      next: () => this.next().then((chunk) => chunk === null ? { done: true, value: undefined } : { done: false, value: chunk }),
      return: (value) => {
        this.#stream?.cancel()
        return Promise.resolve({ done: true, value })
      },
      [Symbol.asyncIterator] () { return this }
    }
  }

  toJSON () {
    const out = { status: this.#status, headers: this.headers.toJSON(), body: this.body }
    if (this.#log.length > 0) out.log = this.#log
    if (this.#exception !== null) out.exception = this.#exception
    return out
  }
}

module.exports = { Response, ResponseStream, kCreate, kFinish }
