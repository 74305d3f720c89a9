'use strict'
// A `ws` chat client for the realtime-chat tests: send JSON frames, await the next frame in order, await the close.
const WebSocket = require('ws')

class ChatClient {
  /** Opens a WebSocket to `${httpUrl}ws`; resolves once it is open. */
  static async open (httpUrl, { timeoutMs = 10000 } = {}) {
    const ws = new WebSocket(new URL('/ws', httpUrl).href.replace(/^http/, 'ws'))
    const client = new ChatClient(ws)
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`WebSocket to ${httpUrl} did not open in ${timeoutMs} ms`)), timeoutMs)
      ws.once('open', () => { clearTimeout(timer); resolve() })
      ws.once('error', (err) => { clearTimeout(timer); reject(err) })
      ws.once('unexpected-response', (req, res) => { clearTimeout(timer); reject(new Error(`handshake answered ${res.statusCode}`)) })
    })
    return client
  }

  constructor (ws) {
    this.ws = ws
    this.inbox = [] // frames not yet taken by next()
    this.waiters = []
    this.closeEvent = null
    ws.on('error', () => {}) // 'close' follows
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? { binary: data } : JSON.parse(data.toString('utf8'))
      const waiter = this.waiters.shift()
      if (waiter) waiter.resolve(frame)
      else this.inbox.push(frame)
    })
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeEvent = { code, reason: reason.toString('utf8') }
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`the connection closed (${code} ${this.closeEvent.reason}) while waiting for a frame`))
        resolve(this.closeEvent)
      })
    })
  }

  /** Sends an object as JSON, or a string / Buffer as is. */
  send (frame) {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame))
  }

  /** The next frame from the server, in order. */
  next (timeoutMs = 10000) {
    if (this.inbox.length) return Promise.resolve(this.inbox.shift())
    if (this.closeEvent) return Promise.reject(new Error(`the connection is closed (${this.closeEvent.code}); no more frames`))
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (frame) => { clearTimeout(timer); resolve(frame) },
        reject: (err) => { clearTimeout(timer); reject(err) }
      }
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        reject(new Error(`no frame from the server within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }

  /** Sends {type: 'join', name} and resolves the 'joined' frame (and the joiner's own join notice after it). */
  async join (name) {
    this.send({ type: 'join', name })
    const joined = await this.next()
    if (joined.type !== 'joined') throw new Error(`joining as ${JSON.stringify(name)} answered ${JSON.stringify(joined)}`)
    const notice = await this.next()
    if (notice.type !== 'notice' || notice.event !== 'join' || notice.name !== joined.name) {
      throw new Error(`expected the own join notice after 'joined', got ${JSON.stringify(notice)}`)
    }
    return joined
  }

  close (code = 1000) {
    this.ws.close(code)
    return this.closed
  }
}

module.exports = { ChatClient }
