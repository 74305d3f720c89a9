'use strict'
// The Response handler.fetch() resolves with when the app's whole body arrived with its head: the
// bytes are kept as they are, and a ReadableStream is made only if `body` is asked for (in Node 20
// every ReadableStream costs ~20 µs, several times the rest of an in-process request). Behaves as a
// Response through the public API: body, bodyUsed, arrayBuffer/blob/bytes/formData/json/text, clone.
const { isDisturbed } = require('node:stream')

const UNUSABLE = 'Body is unusable: Body has already been read' // undici's wording

/** A byte stream over a copy of `bytes` (a byte stream transfers what it is given). */
function streamOf (bytes) {
  return new ReadableStream({
    type: 'bytes',
    start (controller) {
      if (bytes.length) controller.enqueue(new Uint8Array(bytes))
      controller.close()
    }
  })
}

class BufferedResponse extends Response {
  #bytes // the body, until it is consumed or handed to a stream
  #stream = null // made on first `body` access
  #used = false // consumed without a stream

  /** @param {Buffer} bytes @param {ResponseInit} init */
  constructor (bytes, init) {
    super(null, init)
    this.#bytes = bytes
  }

  get body () {
    if (this.#stream === null) {
      if (this.#used) {
        // what a Response read by text() shows: a stream that is disturbed and locked
        this.#stream = streamOf(Buffer.alloc(0))
        this.#stream.getReader().read()
      } else {
        this.#stream = streamOf(this.#bytes)
        this.#bytes = null
      }
    }
    return this.#stream
  }

  get bodyUsed () {
    return this.#used || (this.#stream !== null && isDisturbed(this.#stream))
  }

  // The bytes for a reading method, or null when the body is a stream already (read it as one).
  #take () {
    if (this.bodyUsed || this.#stream?.locked) throw new TypeError(UNUSABLE)
    if (this.#stream !== null) return null
    this.#used = true
    const bytes = this.#bytes
    this.#bytes = null
    return bytes
  }

  // A plain Response over the same body, for the methods that parse it (blob, formData).
  #plain () {
    const bytes = this.#take()
    return new Response(bytes ?? this.#stream, { headers: this.headers })
  }

  async arrayBuffer () {
    const bytes = this.#take()
    if (bytes === null) return new Response(this.#stream).arrayBuffer()
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  }

  async bytes () {
    return new Uint8Array(await this.arrayBuffer())
  }

  async text () {
    const bytes = this.#take()
    if (bytes === null) return new Response(this.#stream).text()
    return new TextDecoder().decode(bytes) // UTF-8, a leading BOM dropped (as fetch does)
  }

  async json () {
    return JSON.parse(await this.text())
  }

  async blob () {
    return this.#plain().blob()
  }

  async formData () {
    return this.#plain().formData()
  }

  clone () {
    if (this.bodyUsed || this.#stream?.locked) throw new TypeError('Response.clone: Body has already been consumed.')
    const init = { status: this.status, statusText: this.statusText, headers: new Headers(this.headers) }
    if (this.#stream === null) return new BufferedResponse(this.#bytes, init)
    const [mine, theirs] = this.#stream.tee()
    this.#stream = mine
    return new Response(theirs, init)
  }
}

module.exports = { BufferedResponse }
