'use strict'
// Shared test helpers: serve a fixture app on 127.0.0.1, raw-socket HTTP for byte-exact checks,
// a capturing logger, and a server in a child process whose RSS can be measured.
const http = require('node:http')
const net = require('node:net')
const path = require('node:path')
const fs = require('node:fs')
const { fork, spawn } = require('node:child_process')
const { once } = require('node:events')
const { PythonHandler } = require('..')

const ROOT = path.resolve(__dirname, '..')
const FIXTURES = path.join(ROOT, 'fixtures')

/** A logger that records every line instead of printing it; `.text()` joins them. */
function captureLogger () {
  const lines = []
  const record = (level) => (message) => lines.push({ level, message: String(message) })
  return {
    lines,
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
    text () { return lines.map((l) => l.message).join('\n') }
  }
}

/**
 * Which server the end-to-end tests run against: 'node' (node:http with handler.listener(), the
 * default) or 'native' (handler.listen(), src/server/), from NODE_ASGI_TEST_HTTP.
 */
const HTTP_PATH = process.env.NODE_ASGI_TEST_HTTP === 'native' ? 'native' : 'node'
const native = HTTP_PATH === 'native'

/**
 * Starts a PythonHandler for `app` (e.g. 'raw_apps:echo', from fixtures/ unless `appDir` is given)
 * listening on 127.0.0.1, port 0: on a node:http server, or, when NODE_ASGI_TEST_HTTP=native, on
 * handler.listen() (then `server` is the native server; `options.listen` holds extra listen()
 * options, ignored on the node path). Returns { handler, server, port, url, logger, close }.
 * `close()` is safe to call twice.
 */
async function startServer (app, options = {}) {
  const { listen: listenOptions = {}, ...handlerOptions } = options
  const logger = handlerOptions.logger ?? captureLogger()
  const handler = new PythonHandler({ appDir: FIXTURES, logger, ...handlerOptions, app })
  await handler.start()
  let server
  if (native) {
    server = await handler.listen({ port: 0, host: '127.0.0.1', ...listenOptions })
  } else {
    server = http.createServer(handler.listener())
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
  }
  const { port } = server.address()
  let closing = null
  const close = () => {
    if (closing === null) {
      closing = (async () => {
        server.closeAllConnections?.()
        await new Promise((resolve) => server.close(() => resolve()))
        await handler.close()
      })()
    }
    return closing
  }
  return { handler, server, port, url: `http://127.0.0.1:${port}`, logger, close }
}

/**
 * startServer() serving HTTP and WebSockets: on node:http, the handler's upgradeListener() on the
 * server's 'upgrade' event too; the native server always serves both.
 */
async function startWebSocketServer (app, options = {}) {
  const served = await startServer(app, options)
  if (!native) served.server.on('upgrade', served.handler.upgradeListener())
  return served
}

/** process.env without VIRTUAL_ENV (the tests choose the interpreter), then `overrides`. */
function childEnv (overrides = {}) {
  const env = { ...process.env }
  delete env.VIRTUAL_ENV
  return Object.assign(env, overrides)
}

/**
 * Runs `node ...args` to the end, collecting its output; SIGKILLed after `timeoutMs`. `onSpawn`
 * sees the child first (to track it). Resolves { code, signal, stdout, stderr, killed, ms }.
 */
function runNodeProcess (args, { env = process.env, cwd = ROOT, timeoutMs = 20000, onSpawn = null } = {}) {
  return new Promise((resolve, reject) => {
    const began = Date.now()
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    onSpawn?.(child)
    let stdout = ''
    let stderr = ''
    let killed = false
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL') }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, killed, ms: Date.now() - began })
    })
  })
}

/**
 * Starts the CLI (`bin/node-asgi.js ...args`) and waits for its "node-asgi running on
 * http://127.0.0.1:PORT" line on stderr. `track` (a Set) holds the child until it exits, for a
 * test file's after-hook to kill. Resolves { child, port, url, stdout(), stderr(), exited,
 * exitWithin(ms), stop() }: `exited` resolves { code, signal, at }; exitWithin(ms) awaits the exit,
 * SIGKILLing the child after `ms` ({ ..., timedOut }); stop() sends SIGTERM and waits up to 10 s.
 */
async function startCli (args, { env = {}, timeoutMs = 15000, cwd = ROOT, track = null, runningPattern = /node-asgi running on http:\/\/127\.0\.0\.1:(\d+)/ } = {}) {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'node-asgi.js'), ...args],
    { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  track?.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => { stdout += d })
  const exited = new Promise((resolve) => child.on('close', (code, signal) => {
    track?.delete(child)
    resolve({ code, signal, at: Date.now() })
  }))
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "running on" line within ${timeoutMs} ms:\n${stderr}`)), timeoutMs)
    child.stderr.on('data', (d) => {
      stderr += d
      const m = runningPattern.exec(stderr)
      if (m) { clearTimeout(timer); resolve(Number(m[1])) }
    })
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`the CLI exited (${code ?? signal}) before listening:\n${stderr}`)) })
  })
  const exitWithin = async (ms) => {
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL') }, ms)
    const result = await exited
    clearTimeout(timer)
    return { ...result, timedOut }
  }
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    return exitWithin(10000)
  }
  return { child, port, url: `http://127.0.0.1:${port}`, stdout: () => stdout, stderr: () => stderr, exited, exitWithin, stop }
}

/**
 * Sends `request` (string or Buffer, or an array of them written one after another with `gapMs`
 * between) over a fresh TCP connection and collects every byte until the server closes, `timeoutMs`
 * passes, or `until(data)` returns true. Resolves { data, ended, timedOut, error }:
 * `ended` is true when the server closed (FIN or reset) before the timeout. `onSocket(socket)` is
 * called with the client socket before anything is written; `endWrite` half-closes after writing.
 */
function rawRequest (port, request, { timeoutMs = 5000, until = null, gapMs = 0, endWrite = false, onSocket = null } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    const chunks = []
    let settled = false
    let error = null
    const finish = (ended, timedOut) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ data: Buffer.concat(chunks), ended, timedOut, error })
    }
    const timer = setTimeout(() => finish(false, true), timeoutMs)
    socket.on('data', (chunk) => {
      chunks.push(chunk)
      if (until && until(Buffer.concat(chunks))) finish(false, false)
    })
    socket.on('end', () => finish(true, false))
    socket.on('close', () => finish(true, false))
    socket.on('error', (err) => { error = err })
    if (onSocket) onSocket(socket)
    socket.on('connect', async () => {
      const parts = Array.isArray(request) ? request : [request]
      for (let i = 0; i < parts.length; i++) {
        if (i > 0 && gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs))
        if (!socket.destroyed) socket.write(parts[i])
      }
      if (endWrite && !socket.destroyed) socket.end()
    })
  })
}

/**
 * Splits a raw HTTP/1.x response into { statusLine, status, version, rawHeaders: [[name, value]],
 * headers: {lower-name: [values]}, head (string), body (Buffer, raw bytes after the head) }.
 * Returns null when the head is incomplete.
 */
function parseResponse (data) {
  const end = data.indexOf('\r\n\r\n')
  if (end < 0) return null
  const head = data.subarray(0, end).toString('latin1')
  const [statusLine, ...lines] = head.split('\r\n')
  const m = /^HTTP\/(\d\.\d) (\d{3})/.exec(statusLine)
  const rawHeaders = []
  const headers = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon)
    const value = line.slice(colon + 1).trim()
    rawHeaders.push([name, value])
    const lower = name.toLowerCase()
    ;(headers[lower] ??= []).push(value)
  }
  return { statusLine, version: m && m[1], status: m ? Number(m[2]) : 0, rawHeaders, headers, head, body: data.subarray(end + 4) }
}

/**
 * Decodes a chunked body: { chunks: [Buffer], body: Buffer, complete (the terminating 0-size chunk
 * was seen), rest (bytes after it) }. Throws on malformed framing.
 */
function decodeChunked (raw) {
  const chunks = []
  let offset = 0
  while (true) {
    const lineEnd = raw.indexOf('\r\n', offset)
    if (lineEnd < 0) return { chunks, body: Buffer.concat(chunks), complete: false, rest: Buffer.alloc(0) }
    const size = parseInt(raw.subarray(offset, lineEnd).toString('latin1').split(';')[0], 16)
    if (!Number.isFinite(size)) throw new Error(`bad chunk size line at ${offset}: ${JSON.stringify(raw.subarray(offset, lineEnd).toString('latin1'))}`)
    if (size === 0) {
      // last-chunk, optional trailers, CRLF
      const trailerEnd = raw.indexOf('\r\n', lineEnd + 2)
      const complete = trailerEnd >= 0
      return { chunks, body: Buffer.concat(chunks), complete, rest: complete ? raw.subarray(trailerEnd + 2) : Buffer.alloc(0) }
    }
    const start = lineEnd + 2
    if (raw.length < start + size + 2) return { chunks, body: Buffer.concat(chunks), complete: false, rest: Buffer.alloc(0) }
    chunks.push(raw.subarray(start, start + size))
    if (raw.subarray(start + size, start + size + 2).toString('latin1') !== '\r\n') throw new Error('chunk not followed by CRLF')
    offset = start + size + 2
  }
}

/** Resolves after `ms` milliseconds. */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `predicate()` is truthy, checking every `intervalMs`, up to `timeoutMs`; returns its value. */
async function waitFor (predicate, { timeoutMs = 5000, intervalMs = 20, message = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const value = await predicate()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`)
    await sleep(intervalMs)
  }
}

/** Resident set size of process `pid` in bytes (from /proc). */
function rssOf (pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /VmRSS:\s+(\d+) kB/.exec(status)
  return m ? Number(m[1]) * 1024 : 0
}

/**
 * Serves `app` from a child Node process (this file, run as a script) so that its memory can be
 * measured apart from the test's. Resolves { child, pid, port, url, rss(), close() }.
 */
async function startChildServer (app, options = {}) {
  return forkServer(__filename, ['--serve', JSON.stringify({ app, options })], { closeTimeoutMs: 10000 })
}

/**
 * Forks `script` with `args` (a server child that reports { port } or { error } over IPC and
 * exits when sent { cmd: 'close' }) and waits for its port. Resolves { child, pid, port, url,
 * rss(), close() }; close() is safe to call twice and SIGKILLs after `closeTimeoutMs`.
 */
async function forkServer (script, args, { closeTimeoutMs }) {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [message] = await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => { throw new Error(`server child exited with ${code} before listening`) })
  ])
  if (message.error) {
    child.kill('SIGKILL')
    throw new Error(`server child failed: ${message.error}`)
  }
  let closing = null
  const close = () => {
    closing ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.send({ cmd: 'close' })
      const timer = setTimeout(() => child.kill('SIGKILL'), closeTimeoutMs)
      await exited
      clearTimeout(timer)
    })()
    return closing
  }
  return { child, pid: child.pid, port: message.port, url: `http://127.0.0.1:${message.port}`, rss: () => rssOf(child.pid), close }
}

// The child side of startChildServer(): serve, report the port, close on request.
async function serveInChild () {
  const { app, options } = JSON.parse(process.argv[3])
  let served
  try {
    served = await startServer(app, { logger: console, ...options })
  } catch (err) {
    process.send({ error: String(err && err.stack ? err.stack : err) })
    process.exit(1)
  }
  process.on('message', async (message) => {
    if (message && message.cmd === 'close') {
      await served.close()
      process.exit(0)
    }
  })
  process.on('disconnect', () => process.exit(0))
  process.send({ port: served.port })
}

if (require.main === module && process.argv[2] === '--serve') serveInChild()

module.exports = {
  FIXTURES,
  HTTP_PATH,
  native,
  captureLogger,
  startServer,
  startWebSocketServer,
  childEnv,
  runNodeProcess,
  startCli,
  rawRequest,
  parseResponse,
  decodeChunked,
  sleep,
  waitFor,
  rssOf,
  startChildServer,
  forkServer
}
