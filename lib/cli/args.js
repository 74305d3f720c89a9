'use strict'
// The CLI's arguments: uvicorn's option names, defaults and messages; bad values exit 2 naming the
// option (like click).
const { parseArgs } = require('node:util')
const { LEVELS } = require('../logger')
const { HTTP_TOKEN, UNSAFE_HEADER_VALUE } = require('../options')

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
  --uds PATH                       Bind to a Unix domain socket instead of host/port
  --fd N                           Serve an inherited listening socket (systemd style)
  --workers N                      Worker processes, each with its own interpreter
                                   [default: $WEB_CONCURRENCY or 1]
  --sticky / --no-sticky           With --workers: keep each client address on one worker
                                   (Engine.IO long-polling needs it) [default: enabled]
  --reload                         Restart the workers when .py files change (development)
  --reload-dir DIR                 Directory to watch with --reload (repeatable) [default: app dir]
  --env-file PATH                  Load environment variables from this file first
  --proxy-headers / --no-proxy-headers
                                   Trust X-Forwarded-For/-Proto/-Port from --forwarded-allow-ips
                                   for client, scheme and port [default: enabled]
  --forwarded-allow-ips LIST       Comma-separated proxy addresses/networks to trust, or '*'
                                   [default: $FORWARDED_ALLOW_IPS or 127.0.0.1]
  --server-header / --no-server-header
                                   Send 'server: node-asgi' [default: enabled]
  --date-header / --no-date-header Send a Date header [default: enabled]
  --header NAME:VALUE              A default response header (repeatable)
  --ssl-keyfile PATH               TLS private key (serves https/wss through node:https)
  --ssl-certfile PATH              TLS certificate chain
  --ssl-keyfile-password TEXT      Passphrase of the private key
  --ssl-ca-certs PATH              CA certificates to verify client certificates with
  --ssl-cert-reqs 0|1|2            Client certificates: 0 none, 1 optional, 2 required [default: 0]
  --backlog N                      Maximum number of pending connections [default: 2048]
  --log-level LEVEL                critical|error|warning|info|debug|trace [default: info]
  --log-config PATH                Python logging configuration (.json, .yaml or .ini) applied
                                   before the app is imported
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
        uds: { type: 'string' },
        fd: { type: 'string' },
        workers: { type: 'string' },
        sticky: { type: 'boolean', default: true },
        'no-sticky': { type: 'boolean', default: false },
        reload: { type: 'boolean', default: false },
        'reload-dir': { type: 'string', multiple: true, default: [] },
        'env-file': { type: 'string' },
        'proxy-headers': { type: 'boolean', default: true },
        'no-proxy-headers': { type: 'boolean', default: false },
        'forwarded-allow-ips': { type: 'string' },
        header: { type: 'string', multiple: true, default: [] },
        'ssl-keyfile': { type: 'string' },
        'ssl-certfile': { type: 'string' },
        'ssl-keyfile-password': { type: 'string' },
        'ssl-ca-certs': { type: 'string' },
        'ssl-cert-reqs': { type: 'string', default: '0' },
        'log-config': { type: 'string' },
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
    process.stdout.write(`node-asgi ${require('../../package.json').version} (Node.js ${process.version})\n`)
    process.exit(0)
  }
  if (positionals.length !== 1) usageError(positionals.length ? `Got unexpected extra arguments (${positionals.slice(1).join(' ')})` : "Missing argument 'APP'.")
  const choice = (name, allowed) => {
    if (!allowed.includes(values[name])) usageError(`Invalid value for '--${name}': '${values[name]}' is not one of ${allowed.map((a) => `'${a}'`).join(', ')}.`)
    return values[name]
  }
  if (values.uds !== undefined && values.fd !== undefined) usageError("Options '--uds' and '--fd' cannot be used together.")
  if (values.uds === '') usageError("Invalid value for '--uds': a socket path is expected.")
  const workersText = values.workers ?? process.env.WEB_CONCURRENCY ?? '1'
  const headers = values.header.map((h) => {
    const colon = h.indexOf(':')
    const name = colon > 0 ? h.slice(0, colon).trim() : ''
    const value = colon > 0 ? h.slice(colon + 1).trim() : ''
    if (!HTTP_TOKEN.test(name) || UNSAFE_HEADER_VALUE.test(value)) {
      usageError(`Invalid value for '--header': ${JSON.stringify(h)} is not a NAME:VALUE pair.`)
    }
    return [name.toLowerCase(), value]
  })
  const ssl = {
    keyfile: values['ssl-keyfile'] ?? null,
    certfile: values['ssl-certfile'] ?? null,
    password: values['ssl-keyfile-password'] ?? null,
    caCerts: values['ssl-ca-certs'] ?? null,
    certReqs: number('ssl-cert-reqs', values['ssl-cert-reqs'], { integer: true, max: 2 })
  }
  if ((ssl.keyfile === null) !== (ssl.certfile === null)) usageError("Options '--ssl-keyfile' and '--ssl-certfile' must be given together.")
  if (ssl.keyfile === null && (ssl.password !== null || ssl.caCerts !== null)) usageError("Options '--ssl-keyfile-password' and '--ssl-ca-certs' need '--ssl-keyfile' and '--ssl-certfile'.")
  return {
    app: positionals[0],
    uds: values.uds ?? null,
    fd: values.fd === undefined ? null : number('fd', values.fd, { integer: true }),
    workers: number('workers', workersText, { integer: true, min: 1, max: 512 }),
    sticky: values.sticky && !values['no-sticky'],
    reload: values.reload,
    reloadDirs: values['reload-dir'],
    envFile: values['env-file'] ?? null,
    proxyHeaders: values['proxy-headers'] && !values['no-proxy-headers'],
    forwardedAllowIps: values['forwarded-allow-ips'] ?? null,
    headers,
    ssl: ssl.keyfile === null ? null : ssl,
    logConfig: values['log-config'] ?? null,
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


/** Where to listen: { path } (--uds), { fd } (--fd), or { host, port }. */
function listenTarget (args) {
  if (args.uds !== null) return { path: args.uds }
  if (args.fd !== null) return { fd: args.fd }
  return { host: args.host, port: args.port }
}

module.exports = { parse, usageError, listenTarget, STARTUP_FAILURE }
