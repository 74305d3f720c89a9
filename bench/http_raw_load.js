'use strict'
// HTTP/1.1 keep-alive load without wrk (`npm run bench -- --http-client raw`): C connections, each
// with one request in flight, for S seconds. Counts what wrk counts — responses, non-2xx/3xx
// (status > 399), socket errors (connect; read: the server closed or reset a connection with a
// request in flight; write; timeout: no response within 2 s) — and reconnects as wrk does when the
// server closes (`connection: close`, or a restart). Prints JSON: { rps, p50, p99 (ms), requests,
// non2xx, connectErrors, readErrors, writeErrors, timeouts }.
//
// Like ws_raw_load.js it writes one pre-built request and only walks the response headers
// (status, content-length, chunked end, connection: close), so that it takes little of the cores
// the servers share with it; wrk (C) takes less still, so ratios are comparable within one run only.
//
//   node bench/http_raw_load.js URL CONNECTIONS SECONDS
const net = require('node:net')

const TIMEOUT_MS = 2000 // wrk's default --timeout

function fail (message) {
  console.error(`http_raw_load: ${message}`)
  process.exit(2)
}

const [urlText, connectionsText, secondsText] = process.argv.slice(2)
let url
try {
  url = new URL(urlText)
} catch {
  fail(`URL must be an http:// URL, got '${urlText}'`)
}
const CONNECTIONS = Number(connectionsText)
const SECONDS = Number(secondsText)
if (url.protocol !== 'http:') fail(`URL must be an http:// URL, got '${urlText}'`)
if (!Number.isInteger(CONNECTIONS) || CONNECTIONS < 1) fail(`CONNECTIONS must be an integer >= 1, got '${connectionsText}'`)
if (!(SECONDS > 0)) fail(`SECONDS must be a number > 0, got '${secondsText}'`)

const PORT = Number(url.port || 80)
const REQUEST = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`, 'latin1')

const stats = { requests: 0, non2xx: 0, connectErrors: 0, readErrors: 0, writeErrors: 0, timeouts: 0 }
const latencies = []
let running = true
const connections = new Set()

// The length of the first whole response in `text` (latin1), or -1 while it is incomplete; sets
// conn.status and conn.close.
function responseLength (conn, text) {
  const headEnd = text.indexOf('\r\n\r\n')
  if (headEnd === -1) return -1
  const head = text.slice(0, headEnd).toLowerCase()
  conn.status = Number(head.slice(9, 12))
  conn.close = /\r\nconnection:\s*close/.test(head)
  const bodyStart = headEnd + 4
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head)
  if (length) {
    const end = bodyStart + Number(length[1])
    return text.length >= end ? end : -1
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
    const end = text.indexOf('\r\n0\r\n\r\n', bodyStart - 2)
    return end === -1 ? -1 : end + 7
  }
  return conn.status === 204 || conn.status === 304 ? bodyStart : -1 // else: a body until close, not expected here
}

function open () {
  if (!running) return
  const conn = { socket: net.connect(PORT, url.hostname), buffer: '', sentAt: 0, inFlight: false, timedOut: false, connected: false, status: 0, close: false }
  connections.add(conn)
  const { socket } = conn
  socket.setNoDelay(true)
  const send = () => {
    conn.sentAt = performance.now()
    conn.inFlight = true
    conn.timedOut = false
    socket.write(REQUEST)
  }
  socket.on('connect', () => {
    conn.connected = true
    send()
  })
  socket.on('data', (chunk) => {
    conn.buffer += chunk.toString('latin1')
    for (;;) {
      const end = responseLength(conn, conn.buffer)
      if (end === -1) return
      conn.buffer = conn.buffer.slice(end)
      if (!running) return
      conn.inFlight = false
      stats.requests++
      if (conn.status > 399) stats.non2xx++
      latencies.push(performance.now() - conn.sentAt)
      if (conn.close) {
        socket.end()
        return
      }
      send()
    }
  })
  socket.on('error', (err) => {
    if (!running) return
    if (!conn.connected) stats.connectErrors++
    else if (err.code === 'EPIPE' && !conn.inFlight) stats.writeErrors++
    else if (conn.inFlight) { stats.readErrors++; conn.inFlight = false }
  })
  socket.on('close', () => {
    connections.delete(conn)
    if (!running) return
    if (conn.inFlight) stats.readErrors++ // closed with a request in flight, without an error event
    if (conn.connected) setImmediate(open)
    else setTimeout(open, 10) // refused: retry, without spinning
  })
}

const started = performance.now()
for (let i = 0; i < CONNECTIONS; i++) open()
const sweep = setInterval(() => {
  const now = performance.now()
  for (const conn of connections) {
    if (conn.inFlight && !conn.timedOut && now - conn.sentAt > TIMEOUT_MS) {
      conn.timedOut = true
      stats.timeouts++
    }
  }
}, 100)
setTimeout(() => {
  running = false
  const seconds = (performance.now() - started) / 1000
  clearInterval(sweep)
  for (const conn of connections) conn.socket.destroy()
  latencies.sort((a, b) => a - b)
  const pct = (p) => latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p / 100))]
  process.stdout.write(JSON.stringify({ rps: stats.requests / seconds, p50: pct(50), p99: pct(99), ...stats }) + '\n')
}, SECONDS * 1000)
