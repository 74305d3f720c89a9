'use strict'
// One WebSocket connection's JS half: holds the upgrade until the app answers websocket.connect,
// then completes the handshake with `ws` (noServer mode) and relays frames both ways with
// backpressure (reading pauses after a bounded queue; the app's send() waits for the socket).
// JS thread only.
const { STATUS_CODES } = require('node:http')
const { WebSocket } = require('ws')
const { TEXT, WANTS_DRAIN, MORE_BODY } = require('./native')

const CLOSE_NO_STATUS = 1005
const CLOSE_ABNORMAL = 1006
const CLOSE_INTERNAL_ERROR = 1011
const CLOSE_SERVICE_RESTART = 1012

/** Writes a plain HTTP response on a socket that was never upgraded, then closes it. */
function rejectHandshake (socket, status, headers = [], body = Buffer.alloc(0)) {
  if (socket.destroyed) return
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] || 'Unknown'}\r\n`
  let hasLength = false
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i].toLowerCase()
    if (name === 'content-length') hasLength = true
    if (name === 'connection' || name === 'transfer-encoding') continue
    head += `${headers[i]}: ${headers[i + 1]}\r\n`
  }
  if (!hasLength) head += `content-length: ${body.length}\r\n`
  head += 'connection: close\r\n\r\n'
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]))
}

/** A syntactically valid RFC 6455 client handshake (else the app never sees it). */
function isWebSocketHandshake (req) {
  const key = req.headers['sec-websocket-key']
  return req.method === 'GET' &&
    (req.headers.upgrade || '').toLowerCase() === 'websocket' &&
    req.headers['sec-websocket-version'] === '13' &&
    typeof key === 'string' && /^[+/0-9A-Za-z]{22}==$/.test(key)
}

class WebSocketCycle {
  constructor (handler, id, req, socket, head) {
    this.handler = handler
    this.id = id
    this.req = req
    this.socket = socket
    this.head = head
    this.ws = null
    this.state = 'handshake' // handshake → open → closed
    this.subprotocol = null
    this.acceptHeaders = null
    this.denial = null // { status, headers, chunks } while the app sends a denial response
    this.unacked = 0 // messages handed to Python since it last asked for more
    this.disconnected = false
    this.done = false
    this.pingTimer = null
    this.pongTimer = null
    this.onEarlyClose = () => this.disconnect(CLOSE_ABNORMAL, '')
  }

  begin (native, rootPath) {
    const { req, socket } = this
    socket.on('close', this.onEarlyClose)
    socket.on('error', () => {}) // 'close' follows; the app sees websocket.disconnect 1006
    native.wsConnect(this.id, 'GET', socket.encrypted ? 'wss' : 'ws', req.httpVersion, req.url, rootPath,
      req.rawHeaders, socket.remoteAddress ?? null, socket.remotePort ?? 0, socket.localAddress ?? null,
      socket.localPort ?? 0)
  }

  disconnect (code, reason) {
    if (this.disconnected) return
    this.disconnected = true
    this.state = 'closed'
    this.stopPing()
    if (!this.done) this.handler.native.wsDisconnect(this.id, code, reason)
  }

  // -- the app's answers ----------------------------------------------------------------------

  onAccept (subprotocol, headers) {
    if (this.disconnected) return
    this.subprotocol = subprotocol
    this.acceptHeaders = headers
    this.handler.webSocketServer().handleUpgrade(this.req, this.socket, this.head, (ws) => this.open(ws))
  }

  open (ws) {
    this.socket.off('close', this.onEarlyClose)
    this.ws = ws
    this.state = 'open'
    const { options } = this.handler
    ws.on('message', (data, isBinary) => {
      this.unacked++
      const pause = this.unacked >= options.wsMaxQueue
      if (pause) ws.pause()
      this.handler.native.wsMessage(this.id, data, !isBinary, pause)
    })
    ws.on('close', (code, reason) => this.disconnect(code || CLOSE_NO_STATUS, reason.toString('utf8')))
    ws.on('error', (err) => this.handler.logger.log(10, `WebSocket error: ${err.message}`))
    if (options.wsPingInterval > 0) {
      ws.on('pong', () => clearTimeout(this.pongTimer))
      this.pingTimer = setInterval(() => this.ping(), options.wsPingInterval * 1000).unref()
    }
  }

  ping () {
    const { ws } = this
    if (ws.readyState !== WebSocket.OPEN) return
    ws.ping()
    clearTimeout(this.pongTimer)
    this.pongTimer = setTimeout(() => {
      ws.close(CLOSE_INTERNAL_ERROR, 'keepalive ping timeout')
      // The peer is unresponsive: do not wait 30 s for its closing handshake.
      setTimeout(() => ws.terminate(), 1000).unref()
    }, this.handler.options.wsPingTimeout * 1000).unref()
  }

  stopPing () {
    clearInterval(this.pingTimer)
    clearTimeout(this.pongTimer)
  }

  onSend (data, flags) {
    const { ws } = this
    const wantsDrain = flags & WANTS_DRAIN
    if (ws === null || ws.readyState !== WebSocket.OPEN) {
      if (wantsDrain) this.handler.native.drained(this.id)
      return
    }
    ws.send(data, { binary: !(flags & TEXT) }, wantsDrain ? () => this.handler.native.drained(this.id) : undefined)
  }

  onClose (code, reason) {
    if (this.state === 'handshake') {
      rejectHandshake(this.socket, 403)
      this.disconnect(CLOSE_ABNORMAL, '')
    } else if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.close(code, reason)
    }
  }

  onResume () {
    this.unacked = 0
    this.ws?.resume()
  }

  // websocket.http.response.start/body: the denial-response extension, sent once complete.
  onResponseStart (status, headers) {
    this.denial = { status, headers, chunks: [] }
  }

  onResponseBody (chunk, flags) {
    const { denial } = this
    if (chunk.length) denial.chunks.push(chunk)
    if (flags & WANTS_DRAIN) this.handler.native.drained(this.id)
    if (!(flags & MORE_BODY)) {
      rejectHandshake(this.socket, denial.status, denial.headers, Buffer.concat(denial.chunks))
      this.disconnect(CLOSE_ABNORMAL, '')
    }
  }

  onDone (abort) {
    this.done = true
    this.stopPing()
    if (abort || (this.state === 'handshake' && !this.disconnected)) this.socket.destroy()
  }

  /** handler.close(): open connections are closed with 1012 (the app sees websocket.disconnect 1012). */
  shutdown () {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.close(CLOSE_SERVICE_RESTART, 'Service Restart')
  }

  /** The loop thread is gone. */
  fail () {
    this.done = true
    this.stopPing()
    if (this.state === 'handshake') rejectHandshake(this.socket, 503)
    else if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.close(CLOSE_INTERNAL_ERROR, 'Server error')
  }
}

module.exports = { WebSocketCycle, isWebSocketHandshake, rejectHandshake }
