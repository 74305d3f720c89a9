'use strict'
// The realtime-chat example's server: one Node process where Express serves the page (public/),
// mounts the Python app (chat_app.py, FastAPI) at /api, and hands it the chat WebSocket (/ws).
const http = require('node:http')
const path = require('node:path')
const { once } = require('node:events')
const express = require('express')
const { PythonHandler } = require('../..') // require('node-asgi') outside this repository

const DEFAULT_PORT = 8000
const DEFAULT_HOST = '127.0.0.1'

/**
 * Starts the chat: imports chat_app.py, runs its lifespan startup, then listens.
 * @param {{ port?: number, host?: string, logger?: { error: Function, warn: Function, info: Function } }} [options]
 * @returns {Promise<{ url: string, port: number, close: () => Promise<void> }>}
 */
async function start ({ port = DEFAULT_PORT, host = DEFAULT_HOST, logger = console } = {}) {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`realtime-chat: 'port' must be an integer from 0 to 65535, got ${JSON.stringify(port)}`)
  }
  if (typeof host !== 'string' || host === '') {
    throw new TypeError(`realtime-chat: 'host' must be a non-empty string, got ${JSON.stringify(host)}`)
  }
  const handler = new PythonHandler({
    app: 'chat_app:create_app',
    factory: true, // a fresh room for every start()
    appDir: __dirname,
    pathIncludesRootPath: false, // Debian's FastAPI 0.92 routes on the path below the /api mount
    wsMaxSize: 65536, // a larger frame closes its connection with 1009; the app refuses > 4096 characters itself
    timeoutGracefulShutdown: 5,
    logger
  })
  await handler.start()

  const app = express()
  app.disable('x-powered-by')
  app.use('/api', handler.listener())
  app.use(express.static(path.join(__dirname, 'public')))
  app.use((req, res) => res.status(404).type('text/plain').send('Not Found\n'))
  const server = http.createServer(app)
  server.on('upgrade', handler.upgradeListener())
  try {
    server.listen(port, host)
    await once(server, 'listening')
  } catch (err) {
    await handler.close()
    throw err
  }
  const actualPort = server.address().port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}/`

  let closing = null
  /**
   * Graceful shutdown: every connection gets a {"type": "notice", "event": "shutdown"} frame, then
   * node-asgi closes the WebSockets with 1012 (Service Restart), lets requests finish, and awaits
   * the app's lifespan shutdown. Idempotent.
   */
  function close () {
    closing ??= (async () => {
      try {
        await handler.handleRequest({ method: 'POST', url: '/internal/shutdown-notice' })
      } catch (err) {
        logger.warn(`realtime-chat: could not send the shutdown notice: ${err.message}`)
      }
      const closed = new Promise((resolve) => server.close(resolve))
      server.closeIdleConnections()
      await handler.close()
      server.closeAllConnections() // browsers keep idle keep-alive connections open
      await closed
    })()
    return closing
  }
  return { url, port: actualPort, close }
}

/** `node server.js`: PORT (default 8000) and HOST (default 127.0.0.1) from the environment. */
async function main () {
  const port = process.env.PORT === undefined || process.env.PORT === '' ? DEFAULT_PORT : Number(process.env.PORT)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`realtime-chat: PORT must be an integer from 0 to 65535, got ${JSON.stringify(process.env.PORT)}`)
    process.exit(2)
  }
  let chat
  try {
    chat = await start({ port, host: process.env.HOST || DEFAULT_HOST })
  } catch (err) {
    console.error(`realtime-chat: could not start: ${err.message}`)
    process.exit(3)
  }
  console.log(`realtime-chat: serving on ${chat.url} (Ctrl+C to stop)`)
  let signalled = false
  const onSignal = (signal) => {
    if (signalled) {
      console.error(`realtime-chat: ${signal} again, exiting now`)
      process.exit(1)
    }
    signalled = true
    console.log(`realtime-chat: ${signal}, shutting down`)
    chat.close().then(() => {
      console.log('realtime-chat: stopped')
      process.exit(0)
    }, (err) => {
      console.error(`realtime-chat: shutdown failed: ${err.stack}`)
      process.exit(1)
    })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

if (require.main === module) main()

module.exports = { start }
