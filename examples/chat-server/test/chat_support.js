'use strict'
// What the chat-server tests share: the example started with its own start() on a free port, a
// `ws` client of the line protocol that awaits server lines in order, and JSON REST calls.
const WebSocket = require('ws')
const { start } = require('../server')
const { captureLogger } = require('../../../test/helpers')

/** Starts the example on 127.0.0.1, port 0, logging into a capture. Resolves start()'s result. */
function startChat () {
  return start({ port: 0, host: '127.0.0.1', logger: captureLogger() })
}

/** A line-protocol client: send(line), next() (the next server line, in order), command(line). */
class LineClient {
  /** Opens a WebSocket to `${url}${path}` (the chat endpoint by default); resolves once open. */
  static async open (url, { path = '/api/ws', timeoutMs = 10000 } = {}) {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + path)
    const client = new LineClient(ws)
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`WebSocket ${path} did not open in ${timeoutMs} ms`)), timeoutMs)
      ws.once('open', () => { clearTimeout(timer); resolve() })
      ws.once('error', (err) => { clearTimeout(timer); reject(err) })
      ws.once('unexpected-response', (req, res) => {
        clearTimeout(timer)
        let body = ''
        res.on('data', (d) => { body += d })
        res.on('end', () => reject(Object.assign(new Error(`handshake answered ${res.statusCode}: ${body}`), { status: res.statusCode, body })))
      })
    })
    return client
  }

  /** Opens a client and says HELLO room:id; resolves the client once the reply is OK. */
  static async hello (url, room, id) {
    const client = await LineClient.open(url)
    const reply = await client.command(`HELLO ${room}:${id}`)
    if (reply !== `OK HELLO ${room}:${id} CONNECTED`) throw new Error(`HELLO ${room}:${id} answered ${JSON.stringify(reply)}`)
    return client
  }

  constructor (ws) {
    this.ws = ws
    this.inbox = [] // lines not yet taken by next()
    this.waiters = []
    this.closeEvent = null
    ws.on('error', () => {}) // 'close' follows
    ws.on('message', (data, isBinary) => {
      const line = isBinary ? { binary: data } : data.toString('utf8')
      const waiter = this.waiters.shift()
      if (waiter) waiter.resolve(line)
      else this.inbox.push(line)
    })
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeEvent = { code, reason: reason.toString('utf8') }
        for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`the connection closed (${code} ${this.closeEvent.reason}) while waiting for a line`))
        resolve(this.closeEvent)
      })
    })
  }

  send (line) {
    this.ws.send(line)
  }

  /** The next line from the server, in order. */
  next (timeoutMs = 10000) {
    if (this.inbox.length) return Promise.resolve(this.inbox.shift())
    if (this.closeEvent) return Promise.reject(new Error(`the connection is closed (${this.closeEvent.code}); no more lines`))
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (line) => { clearTimeout(timer); resolve(line) },
        reject: (err) => { clearTimeout(timer); reject(err) }
      }
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        reject(new Error(`no line from the server within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }

  /** Sends `line` and resolves the next line (its reply, when nothing else was pushed before it). */
  command (line) {
    this.send(line)
    return this.next()
  }

  /** The lines received but not taken yet (a test asserts [] to show nothing else arrived). */
  unread () {
    return [...this.inbox]
  }

  close (code = 1000) {
    if (this.closeEvent === null) this.ws.close(code)
    return this.closed
  }
}

/** A JSON REST call under /api: resolves { status, body } (body parsed as JSON). */
async function rest (url, method, path, body) {
  const init = { method, signal: AbortSignal.timeout(10000) }
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' }
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
  }
  const res = await fetch(`${url}/api${path}`, init)
  const text = await res.text()
  let parsed
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text}`)
  }
  return { status: res.status, body: parsed }
}

const post = (url, path, body) => rest(url, 'POST', path, body)
const get = (url, path) => rest(url, 'GET', path)

module.exports = { startChat, LineClient, rest, post, get }
