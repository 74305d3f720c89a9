'use strict'
// One WebSocket connection's JS half: holds the upgrade until the app answers websocket.connect,
// then completes the handshake with `ws` (noServer mode) and relays frames both ways with
// backpressure (reading pauses after a bounded queue; the app's send() waits for the socket).
// JS thread only.
const { STATUS_CODES } = require('node:http')
const path = require('node:path')
const { WebSocket } = require('ws')
// ws's own header parsers, so that the app never sees a handshake ws would refuse after accept.
// ws does not export them; they are loaded by path from the installed ws 8.x.
const WS_LIB = path.join(path.dirname(require.resolve('ws/package.json')), 'lib')
const subprotocol = require(path.join(WS_LIB, 'subprotocol.js'))
const extension = require(path.join(WS_LIB, 'extension.js'))
const PerMessageDeflate = require(path.join(WS_LIB, 'permessage-deflate.js'))
const { TEXT, WANTS_DRAIN, MORE_BODY, bodyBuffer } = require('./native')

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

/** Whether the Upgrade header names `websocket` among its protocols (node:http emits 'upgrade' for any). */
function asksForWebSocket (req) {
  const upgrade = req.headers.upgrade
  if (upgrade === undefined) return false
  for (const token of upgrade.split(',')) if (token.trim().toLowerCase() === 'websocket') return true
  return false
}

/**
 * Why a client handshake is invalid (a reason for the 400 it gets without reaching the app), or
 * null. Checks what `ws` would refuse after the app accepted: method, Upgrade, key, version, and
 * Sec-WebSocket-Protocol/-Extensions syntax (with ws's own parsers).
 */
function invalidHandshake (req, options) {
  const key = req.headers['sec-websocket-key']
  if (req.method !== 'GET') return 'Invalid HTTP method'
  if ((req.headers.upgrade || '').toLowerCase() !== 'websocket') return 'Invalid Upgrade header'
  if (typeof key !== 'string' || !/^[+/0-9A-Za-z]{22}==$/.test(key)) return 'Missing or invalid Sec-WebSocket-Key header'
  if (req.headers['sec-websocket-version'] !== '13') return 'Missing or invalid Sec-WebSocket-Version header'
  const protocols = req.headers['sec-websocket-protocol']
  if (protocols !== undefined) {
    try {
      subprotocol.parse(protocols)
    } catch {
      return 'Invalid Sec-WebSocket-Protocol header'
    }
  }
  const extensions = req.headers['sec-websocket-extensions']
  if (extensions !== undefined && options.wsPerMessageDeflate) {
    try {
      const offers = extension.parse(extensions)
      if (offers[PerMessageDeflate.extensionName]) {
        new PerMessageDeflate({ isServer: true, maxPayload: options.wsMaxSize }).accept(offers[PerMessageDeflate.extensionName])
      }
    } catch {
      return 'Invalid or unacceptable Sec-WebSocket-Extensions header'
    }
  }
  return null
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
    this.pongTimer = null // set while a pong is awaited
    this.shuttingDown = false // handler.close() began
    this.corked = false // the socket is corked until the end of the current event batch
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
    if (this.shuttingDown) setImmediate(() => this.shutdown()) // accepted after close() began
    ws.on('message', (data, isBinary) => {
      this.unacked++
      const pause = this.unacked >= options.wsMaxQueue
      if (pause) ws.pause()
      this.handler.native.wsMessage(this.id, data, !isBinary, pause)
    })
    ws.on('close', (code, reason) => this.disconnect(code || CLOSE_NO_STATUS, reason.toString('utf8')))
    ws.on('error', (err) => this.handler.logger.log(10, `WebSocket error: ${err.message}`))
    if (options.wsPingInterval > 0) {
      ws.on('pong', () => {
        clearTimeout(this.pongTimer)
        this.pongTimer = null
      })
      this.pingTimer = setInterval(() => this.ping(), options.wsPingInterval * 1000).unref()
    }
  }

  // One ping at a time: while a pong is awaited, later intervals neither ping nor re-arm the timer.
  ping () {
    const { ws } = this
    if (ws.readyState !== WebSocket.OPEN || this.pongTimer !== null) return
    ws.ping()
    this.pongTimer = setTimeout(() => {
      ws.close(CLOSE_INTERNAL_ERROR, 'keepalive ping timeout')
      // The peer is unresponsive: do not wait 30 s for its closing handshake.
      setTimeout(() => ws.terminate(), 1000).unref()
    }, this.handler.options.wsPingTimeout * 1000).unref()
  }

  stopPing () {
    clearInterval(this.pingTimer)
    clearTimeout(this.pongTimer)
    this.pongTimer = null
  }

  /** Corks the socket for the rest of a batch of events; true when this call corked it. */
  cork () {
    const socket = this.ws?._socket
    if (this.corked || !socket || socket.destroyed) return false
    socket.cork()
    this.corked = true
    return true
  }

  uncork () {
    this.corked = false
    this.ws?._socket?.uncork()
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
    if (chunk.length) denial.chunks.push(bodyBuffer(chunk))
    if (flags & WANTS_DRAIN) this.handler.native.drained(this.id)
    if (!(flags & MORE_BODY)) {
      rejectHandshake(this.socket, denial.status, denial.headers, Buffer.concat(denial.chunks))
      this.disconnect(CLOSE_ABNORMAL, '')
    }
  }

  onDone (abort) {
    this.done = true
    this.stopPing()
    if (abort || (this.state === 'handshake' && !this.disconnected)) {
      this.socket.destroy()
    } else if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      // the app's task ended without a close (cancelled at the graceful-shutdown timeout)
      this.ws.close(this.shuttingDown ? CLOSE_SERVICE_RESTART : CLOSE_INTERNAL_ERROR, this.shuttingDown ? 'Service Restart' : '')
    }
  }

  /**
   * handler.close(): open connections are closed with 1012 (the app sees websocket.disconnect
   * 1012); one the app accepts later is closed the same way as soon as it opens.
   */
  shutdown () {
    this.shuttingDown = true
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

module.exports = { WebSocketCycle, asksForWebSocket, invalidHandshake, rejectHandshake }
