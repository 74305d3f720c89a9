'use strict'
// Decodes what lib/platformatic_asgi.py sends for one HTTP response (its docstring has the wire
// format): the app's status and headers from the head, data and the trailer from the body frames.
const { PythonError } = require('./errors')

const MARKER = 'x-node-asgi-platformatic'
const LENGTH = 'x-node-asgi-platformatic-length'
const DATA = 0x44 // 'D'
const EMPTY = 0x45 // 'E': the app completed its response, raised nothing, logged nothing
const REPORT = 0x58 // 'X'
const HEAD = 5 // type byte + 4-byte length

/** The flat [name, value, ...] head as the wrapper sent it → { status, headers } as the app sent them. */
function appHead (rawHeaders) {
  if (rawHeaders.length < 2 || rawHeaders[0].toLowerCase() !== MARKER) return null // not from the wrapper (a refusal)
  const headers = rawHeaders.slice(2)
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i].length === LENGTH.length && headers[i].toLowerCase() === LENGTH) headers[i] = 'content-length'
  }
  return { status: Number(rawHeaders[1]), headers }
}

/** What the trailer says: { started, complete, error (PythonError | null), reason, log }. */
function readTrailer (type, payload) {
  if (type === EMPTY) return { started: true, complete: true, error: null, reason: null, log: '' }
  const r = JSON.parse(payload.toString('utf8'))
  const error = r.e ? new PythonError({ type: r.e[0], message: r.e[1], traceback: r.e[2] }) : null
  return { started: r.s, complete: r.c, error, reason: r.r, log: r.l }
}

/** A whole buffered body → { data: Buffer, trailer } (trailer null if the body ended early). */
function decodeBody (body) {
  const data = []
  let trailer = null
  let at = 0
  while (at + HEAD <= body.length) {
    const type = body[at]
    const length = body.readUInt32BE(at + 1)
    const payload = body.subarray(at + HEAD, at + HEAD + length)
    at += HEAD + length
    if (type === DATA) data.push(payload)
    else trailer = readTrailer(type, payload)
  }
  return { data: data.length === 1 ? data[0] : Buffer.concat(data), trailer }
}

/** Decodes a body that arrives in chunks: push(chunk) returns the data payloads it completed. */
class FrameReader {
  constructor () {
    this.pending = null // bytes of an incomplete frame
    this.trailer = null
  }

  push (chunk) {
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk])
    this.pending = null
    const out = []
    let at = 0
    while (at + HEAD <= buf.length) {
      const length = buf.readUInt32BE(at + 1)
      if (at + HEAD + length > buf.length) break
      const type = buf[at]
      const payload = buf.subarray(at + HEAD, at + HEAD + length)
      at += HEAD + length
      if (type === DATA) out.push(payload)
      else this.trailer = readTrailer(type, payload)
    }
    if (at < buf.length) {
      buf = buf.subarray(at)
      this.pending = Buffer.from(buf) // a copy: the chunk's memory may be reused
    }
    return out
  }
}

module.exports = { MARKER, appHead, decodeBody, FrameReader }
