'use strict'
// Serves one app in this process for the CLI: the handler, its server (native, node:http, or
// node:https with --ssl-*), where it listens (host/port, --uds, --fd) and its shutdown. A
// `--workers` worker does not listen: its primary accepts connections and hands them over
// (`worker` below, from lib/cluster_worker.js). JS thread only.
const fs = require('node:fs')
const { PythonHandler } = require('../handler')
const { LEVELS } = require('../logger')
const { usageError, listenTarget, STARTUP_FAILURE } = require('./args')
const { consoleSink, accessLine, writeNativeAccessLines, bindErrorLine, listeningOn } = require('./logging')
const { removeStaleSocket } = require('../native_server')

// A draining worker (rolling restart, shutdown) keeps idle keep-alive connections this long and
// answers a request that arrives meanwhile with `connection: close` instead of resetting it.
const WORKER_IDLE_GRACE = 1

function handlerOptions (args, sink) {
  return {
    app: args.app,
    appDir: args.appDir,
    rootPath: args.rootPath,
    lifespan: args.lifespan,
    factory: args.factory,
    loop: args.loop,
    logLevel: args.logLevel,
    logger: sink,
    pathIncludesRootPath: args.pathIncludesRootPath,
    limitConcurrency: args.limitConcurrency,
    maxRequestBodySize: args.limitRequestBody,
    maxHeaderCount: args.limitRequestFields,
    wsMaxSize: args.wsMaxSize,
    wsMaxQueue: args.wsMaxQueue,
    wsPingInterval: args.wsPingInterval,
    wsPingTimeout: args.wsPingTimeout,
    wsPerMessageDeflate: args.wsPerMessageDeflate,
    timeoutGracefulShutdown: args.timeoutGracefulShutdown,
    proxyHeaders: args.proxyHeaders,
    forwardedAllowIps: args.forwardedAllowIps ?? undefined,
    logConfig: args.logConfig
  }
}

/** tls.createServer() options from --ssl-*; throws an Error naming the file it cannot use. */
function tlsOptions (ssl) {
  const read = (flag, file) => {
    try {
      return fs.readFileSync(file)
    } catch (err) {
      throw new Error(`cannot read ${flag} ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`)
    }
  }
  const o = { key: read('--ssl-keyfile', ssl.keyfile), cert: read('--ssl-certfile', ssl.certfile) }
  if (ssl.password !== null) o.passphrase = ssl.password
  if (ssl.caCerts !== null) o.ca = read('--ssl-ca-certs', ssl.caCerts)
  if (ssl.certReqs > 0) {
    o.requestCert = true
    o.rejectUnauthorized = ssl.certReqs === 2 // 1 (optional): unverified clients still get in
  }
  // Fails now, with OpenSSL's reason, rather than at the first handshake.
  try {
    require('node:tls').createSecureContext(o)
  } catch (err) {
    throw new Error(`invalid TLS key or certificate (--ssl-keyfile ${ssl.keyfile}, --ssl-certfile ${ssl.certfile}): ${err.message}`)
  }
  return o
}

// node:http's request listener with the access log and the --header defaults.
function nodeListener (listener, { accessLog, headers, draining, serverHeader, dateHeader }) {
  return (req, res) => {
    if (!dateHeader) res.sendDate = false
    if (serverHeader) res.setHeader('server', 'node-asgi')
    for (const [name, value] of headers) res.setHeader(name, value) // the app's own names replace them
    if (draining()) res.shouldKeepAlive = false
    if (accessLog) {
      // Like uvicorn, a response that started is logged even when it could not complete.
      res.once('close', () => {
        if (!res.headersSent) return
        const client = req.socket.remoteAddress === undefined ? '' : `${req.socket.remoteAddress}:${req.socket.remotePort}`
        process.stdout.write(accessLine(client, `${req.method} ${req.url} HTTP/${req.httpVersion}`, res.statusCode))
      })
    }
    listener(req, res)
  }
}

// `promise`, or `seconds` at most (null: no bound).
function bounded (promise, seconds) {
  if (seconds === null) return promise
  return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, seconds * 1000).unref())])
}

/**
 * Runs the CLI's server until a signal (or, in a worker, the primary) stops it.
 * @param {object} args lib/cli/args.js parse() output
 * @param {{ onConnection(fn), ready(), onShutdown(fn) } | null} worker the cluster primary's link
 */
async function serve (args, worker = null) {
  const sink = consoleSink()
  let handler
  try {
    handler = new PythonHandler(handlerOptions(args, sink))
  } catch (err) {
    const FLAGS = { forwardedAllowIps: '--forwarded-allow-ips', logConfig: '--log-config' }
    const m = /^node-asgi: option '(\w+)' (.*)$/s.exec(err.message)
    usageError(m && FLAGS[m[1]] ? `Invalid value for '${FLAGS[m[1]]}': ${m[2]}` : err.message)
  }
  const log = handler.logger
  const fail = async (message) => {
    log.error(message)
    await handler.close().catch(() => {})
    process.exit(STARTUP_FAILURE)
  }
  log.info(`Started server process [${process.pid}]`)

  let tls = null
  if (args.ssl !== null) {
    try {
      tls = tlsOptions(args.ssl)
    } catch (err) {
      return fail(err.message)
    }
    if (args.http === 'native') log.info('TLS is served through node:https (the native server speaks plain HTTP only)')
  }
  const native = tls === null && args.http === 'native'
  const accessLog = args.accessLog && log.enabled(LEVELS.info)
  let draining = false
  const nodeServer = native
    ? null
    : handler.createServer({
      timeoutKeepAlive: args.timeoutKeepAlive,
      timeoutHeaders: args.timeoutHeaders,
      maxHeaderSize: args.maxHeaderSize,
      tls,
      listener: (listener) => nodeListener(listener, { accessLog, headers: args.headers, draining: () => draining, serverHeader: args.serverHeader, dateHeader: args.dateHeader })
    })
  let nativeServer = null

  let stopping = null
  const stop = (signal) => {
    if (stopping) {
      if (signal === 'SIGINT' && worker === null) process.exit(0) // a second Ctrl-C forces the exit, like uvicorn
      return stopping
    }
    log.info('Shutting down')
    draining = true
    stopping = (async () => {
      const grace = worker === null ? 0 : WORKER_IDLE_GRACE
      if (nativeServer !== null) {
        const closed = nativeServer.close({ idleGrace: grace })
        // A worker lets its connections finish before the app shuts down: a request that comes in
        // during the idle grace must still find a running app.
        if (grace > 0) await bounded(closed, args.timeoutGracefulShutdown)
      }
      if (nodeServer !== null) {
        if (nodeServer.listening) nodeServer.close()
        if (grace > 0) await new Promise((resolve) => setTimeout(resolve, grace * 1000).unref())
        nodeServer.closeIdleConnections()
      }
      await handler.close() // also closes the native server gracefully (WebSockets get 1012)
      nodeServer?.closeAllConnections()
      log.info(`Finished server process [${process.pid}]`)
    })()
    return stopping
  }
  const exitAfter = (signal) => () => stop(signal).then(() => process.exit(0))
  process.on('SIGINT', exitAfter('SIGINT'))
  process.on('SIGTERM', exitAfter('SIGTERM'))
  worker?.onShutdown(exitAfter('primary'))

  try {
    await handler.start()
  } catch (err) {
    log.error(err.traceback ? `${err.message}\n${err.traceback}` : err.message)
    return fail('Application startup failed. Exiting.')
  }
  if (stopping) return

  const serverOptions = {
    backlog: args.backlog,
    timeoutKeepAlive: args.timeoutKeepAlive,
    timeoutHeaders: args.timeoutHeaders,
    maxHeaderSize: args.maxHeaderSize,
    serverHeader: args.serverHeader && !args.headers.some(([name]) => name === 'server') ? 'node-asgi' : false,
    dateHeader: args.dateHeader,
    defaultHeaders: args.headers,
    accessLog
  }
  if (worker !== null) {
    if (native) {
      nativeServer = await handler.createNativeServer(serverOptions)
      if (accessLog) nativeServer.on('accessLog', writeNativeAccessLines)
    }
    worker.onConnection((socket) => {
      if (nativeServer !== null) {
        try {
          nativeServer.adopt(socket)
        } catch (err) {
          log.warning(`cannot serve a connection: ${err.message}`)
        }
      } else {
        nodeServer.emit('connection', socket)
        socket.resume()
      }
    })
    worker.ready()
    return
  }

  const where = listenTarget(args)
  const bindFailed = (err) => fail(bindErrorLine(err, args))
  let udsMode = null
  try {
    if (args.uds !== null) udsMode = removeStaleSocket(args.uds) ?? 0o666 // uvicorn: 0666 for a new socket
    if (native) {
      nativeServer = await handler.listen({ ...serverOptions, ...where })
      if (accessLog) nativeServer.on('accessLog', writeNativeAccessLines)
    } else {
      await new Promise((resolve, reject) => {
        nodeServer.once('error', reject)
        nodeServer.listen({ ...where, backlog: args.backlog }, resolve)
      })
    }
  } catch (err) {
    if (stopping) return
    return bindFailed(err)
  }
  if (udsMode !== null) fs.chmodSync(args.uds, udsMode)
  log.info(`node-asgi running on ${listeningOn((nativeServer ?? nodeServer).address(), args)} (Press CTRL+C to quit)`)
}

module.exports = { serve, tlsOptions }
