#!/usr/bin/env node
'use strict'
// node-asgi's command line: serves an ASGI app over HTTP like uvicorn, with uvicorn's option names,
// defaults and exit codes (3 when startup fails).
const { parseArgs } = require('node:util')
const { PythonHandler } = require('../lib')
const { LEVELS } = require('../lib/logger')

const STARTUP_FAILURE = 3
const USAGE = `Usage: node-asgi [OPTIONS] APP

  APP is an import string "module:attribute", e.g. main:app

Options:
  --app-dir DIR                    Look for APP in DIR (first on sys.path) [default: .]
  --host HOST                      Bind socket to this host [default: 127.0.0.1]
  --port PORT                      Bind socket to this port (0: any free port) [default: 8000]
  --root-path PATH                 Set the ASGI root_path for apps mounted below a path
  --lifespan auto|on|off           Lifespan implementation [default: auto]
  --factory                        Treat APP as an application factory: call it to get the app
  --loop auto|asyncio|uvloop       Event loop implementation; auto: uvloop when it imports
                                   [default: auto]
  --http native|node               HTTP server: native (libuv + llhttp, no JS per request) or
                                   node (node:http + ws) [default: native]
  --server-header / --no-server-header
                                   Send 'server: node-asgi' (native server) [default: enabled]
  --date-header / --no-date-header Send a Date header (native server) [default: enabled]
  --backlog N                      Maximum number of pending connections [default: 2048]
  --log-level LEVEL                critical|error|warning|info|debug|trace [default: info]
  --access-log / --no-access-log   Enable/disable the access log [default: enabled]
  --timeout-keep-alive SECONDS     Close idle keep-alive connections after this long [default: 5]
  --timeout-graceful-shutdown SEC  Wait at most this long for requests on shutdown [default: wait]
  --limit-concurrency N            Answer 503 beyond N requests/connections in flight [default: none]
  --limit-request-body BYTES       Answer 413 to larger request bodies [default: none]
  --limit-request-fields N         Answer 431 to requests with more headers [default: 100]
  --max-header-size BYTES          Answer 431 to larger request heads [default: 16384]
  --timeout-headers SECONDS        Close connections that send no complete head in time [default: 30]
  --ws-max-size BYTES              WebSocket max message size [default: 16777216]
  --ws-max-queue N                 WebSocket incoming queue before reading pauses [default: 32]
  --ws-ping-interval SECONDS       WebSocket ping interval, 0 disables [default: 20]
  --ws-ping-timeout SECONDS        WebSocket ping timeout [default: 20]
  --ws-per-message-deflate BOOL    WebSocket per-message-deflate compression [default: true]
  --no-path-includes-root-path     scope["path"] without root_path (Starlette < 0.33, FastAPI < 0.109)
  --version                        Print the version and exit
  -h, --help                       Show this message and exit
`

function usageError (message) {
  process.stderr.write(`${USAGE}\nError: ${message}\n`)
  process.exit(2)
}

function number (name, text, { integer = false, min = 0, max = Infinity } = {}) {
  const n = Number(text)
  if (text === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    usageError(`Invalid value for '--${name}': ${JSON.stringify(text)} is not a valid ${integer ? 'integer' : 'number'}${max < Infinity ? ` in the range ${min}..${max}` : ` >= ${min}`}.`)
  }
  return n
}

function parse (argv) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'app-dir': { type: 'string', default: '.' },
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8000' },
        'root-path': { type: 'string', default: '' },
        lifespan: { type: 'string', default: 'auto' },
        factory: { type: 'boolean', default: false },
        loop: { type: 'string', default: 'auto' },
        http: { type: 'string', default: 'native' },
        'server-header': { type: 'boolean', default: true },
        'no-server-header': { type: 'boolean', default: false },
        'date-header': { type: 'boolean', default: true },
        'no-date-header': { type: 'boolean', default: false },
        backlog: { type: 'string', default: '2048' },
        'log-level': { type: 'string', default: 'info' },
        'access-log': { type: 'boolean', default: true },
        'no-access-log': { type: 'boolean', default: false },
        'timeout-keep-alive': { type: 'string', default: '5' },
        'timeout-graceful-shutdown': { type: 'string' },
        'limit-concurrency': { type: 'string' },
        'limit-request-body': { type: 'string' },
        'limit-request-fields': { type: 'string', default: '100' },
        'max-header-size': { type: 'string', default: '16384' },
        'timeout-headers': { type: 'string', default: '30' },
        'ws-max-size': { type: 'string', default: String(16 * 1024 * 1024) },
        'ws-max-queue': { type: 'string', default: '32' },
        'ws-ping-interval': { type: 'string', default: '20' },
        'ws-ping-timeout': { type: 'string', default: '20' },
        'ws-per-message-deflate': { type: 'string', default: 'true' },
        'no-path-includes-root-path': { type: 'boolean', default: false },
        version: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false }
      }
    })
  } catch (err) {
    usageError(err.message)
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  if (values.version) {
    process.stdout.write(`node-asgi ${require('../package.json').version} (Node.js ${process.version})\n`)
    process.exit(0)
  }
  if (positionals.length !== 1) usageError(positionals.length ? `Got unexpected extra arguments (${positionals.slice(1).join(' ')})` : "Missing argument 'APP'.")
  const choice = (name, allowed) => {
    if (!allowed.includes(values[name])) usageError(`Invalid value for '--${name}': '${values[name]}' is not one of ${allowed.map((a) => `'${a}'`).join(', ')}.`)
    return values[name]
  }
  return {
    app: positionals[0],
    appDir: values['app-dir'],
    host: values.host,
    port: number('port', values.port, { integer: true, max: 65535 }),
    rootPath: values['root-path'],
    lifespan: choice('lifespan', ['auto', 'on', 'off']),
    factory: values.factory,
    loop: choice('loop', ['auto', 'asyncio', 'uvloop']),
    http: choice('http', ['native', 'node']),
    serverHeader: values['server-header'] && !values['no-server-header'],
    dateHeader: values['date-header'] && !values['no-date-header'],
    backlog: number('backlog', values.backlog, { integer: true, min: 1 }),
    logLevel: choice('log-level', Object.keys(LEVELS)),
    accessLog: values['access-log'] && !values['no-access-log'],
    timeoutKeepAlive: number('timeout-keep-alive', values['timeout-keep-alive']),
    timeoutGracefulShutdown: values['timeout-graceful-shutdown'] === undefined ? null : number('timeout-graceful-shutdown', values['timeout-graceful-shutdown']),
    limitConcurrency: values['limit-concurrency'] === undefined ? null : number('limit-concurrency', values['limit-concurrency'], { integer: true, min: 1 }),
    limitRequestBody: values['limit-request-body'] === undefined ? null : number('limit-request-body', values['limit-request-body'], { integer: true, min: 1 }),
    limitRequestFields: number('limit-request-fields', values['limit-request-fields'], { integer: true, min: 1 }),
    maxHeaderSize: number('max-header-size', values['max-header-size'], { integer: true, min: 1024 }),
    timeoutHeaders: number('timeout-headers', values['timeout-headers'], { min: 0.001 }),
    wsMaxSize: number('ws-max-size', values['ws-max-size'], { integer: true, min: 1 }),
    wsMaxQueue: number('ws-max-queue', values['ws-max-queue'], { integer: true, min: 1 }),
    wsPingInterval: number('ws-ping-interval', values['ws-ping-interval']),
    wsPingTimeout: number('ws-ping-timeout', values['ws-ping-timeout']),
    wsPerMessageDeflate: choice('ws-per-message-deflate', ['true', 'false']) === 'true',
    pathIncludesRootPath: !values['no-path-includes-root-path']
  }
}

// uvicorn's console format: "INFO:     message" on stderr.
function consoleSink () {
  const line = (label) => (message) => process.stderr.write(`${(label + ':').padEnd(10)}${message}\n`)
  return { error: line('ERROR'), warn: line('WARNING'), info: line('INFO'), debug: line('DEBUG') }
}

async function main () {
  const args = parse(process.argv.slice(2))
  const sink = consoleSink()
  let handler
  try {
    handler = new PythonHandler({
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
      timeoutGracefulShutdown: args.timeoutGracefulShutdown
    })
  } catch (err) {
    usageError(err.message)
  }
  const log = handler.logger
  log.info(`Started server process [${process.pid}]`)

  const accessLog = args.accessLog && log.enabled(LEVELS.info)
  // --http node: node:http + ws, created now; --http native: created by listen() after startup.
  let server = args.http === 'node'
    ? handler.createServer({
      timeoutKeepAlive: args.timeoutKeepAlive,
      timeoutHeaders: args.timeoutHeaders,
      maxHeaderSize: args.maxHeaderSize,
      listener: accessLog ? (listener) => withAccessLog(listener, log) : null
    })
    : null

  let stopping = null
  const stop = (signal) => {
    if (stopping) {
      if (signal === 'SIGINT') process.exit(0) // a second Ctrl-C forces the exit, like uvicorn
      return stopping
    }
    log.info('Shutting down')
    stopping = (async () => {
      if (server !== null && args.http === 'node') {
        server.close()
        server.closeIdleConnections()
      }
      await handler.close() // also closes the native server gracefully (WebSockets get 1012)
      server?.closeAllConnections()
      log.info(`Finished server process [${process.pid}]`)
    })()
    return stopping
  }
  process.on('SIGINT', () => stop('SIGINT').then(() => process.exit(0)))
  process.on('SIGTERM', () => stop('SIGTERM').then(() => process.exit(0)))

  try {
    await handler.start()
  } catch (err) {
    log.error(err.traceback ? `${err.message}\n${err.traceback}` : err.message)
    log.error('Application startup failed. Exiting.')
    process.exit(STARTUP_FAILURE)
  }
  if (stopping) return
  const bindFailed = async (err) => {
    log.error(`[Errno ${err.errno ?? ''}] error while attempting to bind on address (${args.host}, ${args.port}): ${err.code}`)
    await handler.close()
    process.exit(1)
  }
  const running = (port) => {
    const host = args.host.includes(':') ? `[${args.host}]` : args.host
    log.info(`node-asgi running on http://${host}:${port} (Press CTRL+C to quit)`)
  }
  if (args.http === 'native') {
    try {
      server = await handler.listen({
        port: args.port,
        host: args.host,
        backlog: args.backlog,
        timeoutKeepAlive: args.timeoutKeepAlive,
        timeoutHeaders: args.timeoutHeaders,
        maxHeaderSize: args.maxHeaderSize,
        serverHeader: args.serverHeader ? 'node-asgi' : false,
        dateHeader: args.dateHeader,
        accessLog
      })
    } catch (err) {
      if (stopping) return
      await bindFailed(err)
      return
    }
    if (accessLog) server.on('accessLog', (text) => { for (const line of text.split('\n')) log.info(line) })
    running(server.address().port)
    return
  }
  server.on('error', bindFailed)
  server.listen({ port: args.port, host: args.host, backlog: args.backlog }, () => running(server.address().port))
}

function withAccessLog (listener, log) {
  return (req, res) => {
    // Like uvicorn, a response that started is logged even when it could not complete.
    res.once('close', () => {
      if (!res.headersSent) return
      const client = `${req.socket.remoteAddress}:${req.socket.remotePort}`
      log.info(`${client} - "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode}`)
    })
    listener(req, res)
  }
}

main()
