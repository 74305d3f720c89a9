'use strict'
// The chat-server example: one Node process, Express 5 serving public/ and the FastAPI chat app
// (app/) mounted at /api through node-asgi, with its WebSocket (/api/ws) on the server's 'upgrade'.
const http = require('node:http')
const path = require('node:path')
const { once } = require('node:events')
const express = require('express')
const { PythonHandler } = require('../..')

const MOUNT = '/api'

/** A raw 404 for an upgrade outside the mount (nothing else listens for upgrades). */
function refuseUpgrade (socket, status, text) {
  socket.on('error', () => {})
  socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`)
}

/**
 * Starts the chat server on `host`:`port` (0 picks a free port). Resolves
 * { server, handler, url, close() }; close() shuts down gracefully (WebSockets get 1012, the
 * Python app's lifespan shutdown runs) and is safe to call twice. Rejects with a TypeError naming
 * a bad option, or with the listen error (EADDRINUSE...).
 */
async function start ({ port = 8000, host = '127.0.0.1', logger = console } = {}) {
  const shown = (v) => typeof v === 'string' ? JSON.stringify(v) : String(v)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`chat-server: 'port' must be an integer from 0 to 65535, got ${shown(port)}`)
  if (typeof host !== 'string' || host === '') throw new TypeError(`chat-server: 'host' must be a non-empty string, got ${shown(host)}`)
  const handler = new PythonHandler({
    app: 'app.main:app',
    appDir: __dirname,
    // Debian's FastAPI 0.92 routes on a path without the mount prefix (README "Root paths")
    pathIncludesRootPath: false,
    wsMaxSize: 64 * 1024, // a larger frame closes that connection with 1009
    timeoutGracefulShutdown: 5,
    logger
  })
  await handler.start()

  const app = express()
  app.use(MOUNT, handler.listener()) // before any body parser: node-asgi streams the raw body
  app.use(express.static(path.join(__dirname, 'public')))
  app.use((req, res) => res.status(404).type('text/plain').send(`Not Found: ${req.path}\n`))

  const server = http.createServer(app)
  const upgrade = handler.upgradeListener()
  server.on('upgrade', (req, socket, head) => {
    // Express does not see upgrades: strip the mount here as app.use(MOUNT, ...) does for HTTP,
    // so FastAPI routes /api/ws as /ws
    const url = req.url
    if (url !== MOUNT && !url.startsWith(MOUNT + '/') && !url.startsWith(MOUNT + '?')) {
      refuseUpgrade(socket, 404, `no WebSocket endpoint at ${url.split('?')[0]}; connect to ${MOUNT}/ws\n`)
      return
    }
    const rest = url.slice(MOUNT.length)
    req.url = rest.startsWith('/') ? rest : '/' + rest
    upgrade(req, socket, head)
  })

  server.listen(port, host)
  try {
    await once(server, 'listening')
  } catch (err) {
    await handler.close()
    throw err
  }
  const address = server.address()
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`

  let closing = null
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise((resolve) => server.close(() => resolve())) // stop accepting
      await handler.close() // requests in flight finish, WebSockets close with 1012
      server.closeAllConnections()
      await closed
    })()
    return closing
  }
  return { server, handler, url, close }
}

async function main () {
  const { PORT = '8000', HOST = '127.0.0.1' } = process.env
  if (!/^\d{1,5}$/.test(PORT) || Number(PORT) > 65535) {
    console.error(`chat-server: PORT must be a port number from 0 to 65535, got ${JSON.stringify(PORT)}`)
    process.exit(2)
  }
  let served
  try {
    served = await start({ port: Number(PORT), host: HOST })
  } catch (err) {
    console.error(err instanceof TypeError ? err.message : `chat-server: cannot start: ${err.message}`)
    process.exit(err instanceof TypeError ? 2 : 1)
  }
  console.log(`chat-server running on ${served.url} (page ${served.url}/, REST ${served.url}${MOUNT}/..., WebSocket ${served.url.replace('http', 'ws')}${MOUNT}/ws)`)
  let signalled = false
  const stop = (signal) => {
    if (signalled) {
      console.error(`chat-server: ${signal} again, exiting now`)
      process.exit(1)
    }
    signalled = true
    console.log(`chat-server: ${signal}, shutting down`)
    served.close().then(() => process.exit(0), (err) => {
      console.error(`chat-server: shutdown failed: ${err.stack}`)
      process.exit(1)
    })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

if (require.main === module) main()

module.exports = { start }
