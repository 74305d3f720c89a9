'use strict'
// Shared pieces of the native server's tests (test/native_*.test.js): serve a fixture app with
// handler.listen() on 127.0.0.1, split a raw byte stream into its HTTP/1.1 responses (checking
// that each is well-formed), and serve from a child process whose RSS can be measured.
// Run as a script with --serve-native it is that child; required, it has no side effects.
const net = require('node:net')
const { once } = require('node:events')
const { PythonHandler } = require('..')
const { FIXTURES, captureLogger, forkServer } = require('./helpers')

/**
 * handler.listen() for `app` (fixtures/) on 127.0.0.1, port 0. `handlerOptions` go to the
 * PythonHandler, `listenOptions` to listen(). Resolves { handler, server, port, url, logger, close }.
 */
async function startNative (app, handlerOptions = {}, listenOptions = {}) {
  const logger = captureLogger()
  const handler = new PythonHandler({ appDir: FIXTURES, logger, ...handlerOptions, app })
  const server = await handler.listen({ port: 0, host: '127.0.0.1', ...listenOptions })
  const { port } = server.address()
  let closing = null
  const close = () => {
    closing ??= (async () => {
      server.closeAllConnections()
      await server.close()
      await handler.close()
    })()
    return closing
  }
  return { handler, server, port, url: `http://127.0.0.1:${port}`, logger, close }
}

const STATUS_LINE = /^HTTP\/1\.1 (\d{3}) [\x21-\x7e][\x20-\x7e]*$/
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/**
 * Splits `data` (everything one connection received) into responses, validating each as
 * HTTP/1.1: status line, header lines (token ":" value without CTLs), framing by
 * content-length, chunked or (last) connection close. `requestMethods[i]` (default GET) says
 * whether response i answers a HEAD. Informational (1xx) responses are returned too.
 * Returns { responses: [{ status, headers, rawHeaders, body, framing }], rest, error }: `error`
 * (a string) names the first malformation; `rest` holds trailing bytes that are not a complete
 * response (a truncated one when the connection was cut).
 */
function splitResponses (data, { requestMethods = [], closed = true } = {}) {
  const responses = []
  let offset = 0
  let index = 0
  while (offset < data.length) {
    const end = data.indexOf('\r\n\r\n', offset)
    if (end < 0) return { responses, rest: data.subarray(offset), error: null }
    const lines = data.subarray(offset, end).toString('latin1').split('\r\n')
    const statusLine = lines.shift()
    const m = STATUS_LINE.exec(statusLine)
    if (!m) return { responses, rest: data.subarray(offset), error: `bad status line ${JSON.stringify(statusLine)}` }
    const status = Number(m[1])
    const headers = {}
    const rawHeaders = []
    for (const line of lines) {
      const colon = line.indexOf(':')
      const name = colon > 0 ? line.slice(0, colon) : ''
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')
      if (!TOKEN.test(name) || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
        return { responses, rest: data.subarray(offset), error: `bad header line ${JSON.stringify(line)}` }
      }
      rawHeaders.push([name, value])
      ;(headers[name.toLowerCase()] ??= []).push(value)
    }
    let cursor = end + 4
    let body = Buffer.alloc(0)
    let framing
    const informational = status >= 100 && status < 200
    const head = (requestMethods[index] ?? 'GET') === 'HEAD'
    if (informational || head || status === 204 || status === 304) {
      framing = 'none'
      if (status === 204 || status === 304 || informational) {
        if (headers['transfer-encoding']) return { responses, rest: data.subarray(offset), error: `${status} with transfer-encoding` }
      }
    } else if (headers['transfer-encoding']) {
      if (headers['content-length']) return { responses, rest: data.subarray(offset), error: 'both content-length and transfer-encoding' }
      if (headers['transfer-encoding'].join(',').trim().toLowerCase() !== 'chunked') return { responses, rest: data.subarray(offset), error: 'transfer-encoding is not chunked' }
      framing = 'chunked'
      const chunks = []
      while (true) {
        const lineEnd = data.indexOf('\r\n', cursor)
        if (lineEnd < 0) return { responses, rest: data.subarray(offset), error: null }
        const sizeText = data.subarray(cursor, lineEnd).toString('latin1')
        if (!/^[0-9a-fA-F]+(;.*)?$/.test(sizeText)) return { responses, rest: data.subarray(offset), error: `bad chunk size line ${JSON.stringify(sizeText)}` }
        const size = parseInt(sizeText, 16)
        cursor = lineEnd + 2
        if (size === 0) {
          // trailers (none expected), then CRLF
          const trailerEnd = data.indexOf('\r\n', cursor)
          if (trailerEnd < 0) return { responses, rest: data.subarray(offset), error: null }
          if (trailerEnd !== cursor) return { responses, rest: data.subarray(offset), error: 'unexpected trailers' }
          cursor += 2
          break
        }
        if (data.length < cursor + size + 2) return { responses, rest: data.subarray(offset), error: null }
        chunks.push(data.subarray(cursor, cursor + size))
        if (data[cursor + size] !== 13 || data[cursor + size + 1] !== 10) return { responses, rest: data.subarray(offset), error: 'chunk data not followed by CRLF' }
        cursor += size + 2
      }
      body = Buffer.concat(chunks)
    } else if (headers['content-length']) {
      const values = new Set(headers['content-length'])
      const text = headers['content-length'][0]
      if (values.size !== 1 || headers['content-length'].length !== 1 || !/^\d+$/.test(text)) return { responses, rest: data.subarray(offset), error: `bad content-length ${JSON.stringify(headers['content-length'])}` }
      framing = 'length'
      const length = Number(text)
      if (data.length < cursor + length) return { responses, rest: data.subarray(offset), error: null }
      body = data.subarray(cursor, cursor + length)
      cursor += length
    } else {
      framing = 'close'
      if (!closed) return { responses, rest: data.subarray(offset), error: null }
      body = data.subarray(cursor)
      cursor = data.length
    }
    responses.push({ status, headers, rawHeaders, body, framing, statusLine })
    offset = cursor
    if (!informational) index++
  }
  return { responses, rest: data.subarray(offset), error: null }
}

/** Opens a TCP connection to 127.0.0.1:port; resolves the connected socket. */
function connect (port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => { socket.off('error', reject); resolve(socket) })
    socket.once('error', reject)
  })
}

/**
 * A connection that collects what it receives: { socket, data(), ended (Promise: resolves when
 * the server closes), until(predicate, timeoutMs) (resolves true once predicate(data) holds,
 * false on timeout or close) }.
 */
async function openCollector (port) {
  const socket = await connect(port)
  const chunks = []
  let size = 0
  let closed = false
  const waiters = new Set()
  const check = () => { for (const w of waiters) w() }
  socket.on('data', (chunk) => { chunks.push(chunk); size += chunk.length; check() })
  socket.on('error', () => {})
  const ended = new Promise((resolve) => socket.on('close', () => { closed = true; check(); resolve() }))
  const data = () => { if (chunks.length > 1) chunks.splice(0, chunks.length, Buffer.concat(chunks)); return chunks[0] ?? Buffer.alloc(0) }
  const until = (predicate, timeoutMs = 5000) => new Promise((resolve) => {
    let timer = null
    const waiter = () => {
      if (predicate(data())) { done(true) } else if (closed) { done(false) }
    }
    const done = (value) => { clearTimeout(timer); waiters.delete(waiter); resolve(value) }
    timer = setTimeout(() => done(false), timeoutMs)
    waiters.add(waiter)
    waiter()
  })
  return { socket, data, ended, isClosed: () => closed, size: () => size, until }
}

/**
 * Serves `app` from a child Node process with handler.listen() (`mode: 'native'`) or
 * handler.createServer() (`mode: 'node'`), so its memory can be measured apart from the test's.
 * Resolves { child, pid, port, rss(), ask(cmd) (IPC round trip: 'connections'), close() }.
 */
async function startNativeChild (app, { mode = 'native', handlerOptions = {}, listenOptions = {} } = {}) {
  const served = await forkServer(__filename, ['--serve-native', JSON.stringify({ app, mode, handlerOptions, listenOptions })],
    { closeTimeoutMs: 15000 })
  const { child } = served
  let seq = 0
  const ask = (cmd) => new Promise((resolve) => {
    const id = ++seq
    const onMessage = (m) => { if (m && m.id === id) { child.off('message', onMessage); resolve(m.value) } }
    child.on('message', onMessage)
    child.send({ cmd, id })
  })
  return { ...served, ask }
}

async function serveNativeChild () {
  const { app, mode, handlerOptions, listenOptions } = JSON.parse(process.argv[3])
  const quiet = { error: (m) => console.error(m), warn () {}, info () {}, debug () {} }
  const handler = new PythonHandler({ appDir: FIXTURES, logger: quiet, ...handlerOptions, app })
  let server
  let port
  try {
    if (mode === 'native') {
      server = await handler.listen({ port: 0, host: '127.0.0.1', ...listenOptions })
      port = server.address().port
    } else {
      await handler.start()
      server = handler.createServer(listenOptions)
      server.listen(0, '127.0.0.1')
      await once(server, 'listening')
      port = server.address().port
    }
  } catch (err) {
    process.send({ error: String(err && err.stack ? err.stack : err) })
    process.exit(1)
  }
  const connections = () => new Promise((resolve) => {
    if (mode === 'native') resolve(server.connections)
    else server.getConnections((err, n) => resolve(err ? -1 : n))
  })
  process.on('message', async (m) => {
    if (!m) return
    if (m.cmd === 'close') {
      server.closeAllConnections?.()
      await new Promise((resolve) => server.close(() => resolve()))
      await handler.close()
      process.exit(0)
    } else if (m.cmd === 'connections') {
      process.send({ id: m.id, value: await connections() })
    }
  })
  process.on('disconnect', () => process.exit(0))
  process.send({ port })
}

if (require.main === module && process.argv[2] === '--serve-native') serveNativeChild()

module.exports = { startNative, splitResponses, connect, openCollector, startNativeChild }
