'use strict'
// A bench server: one node-asgi PythonHandler serving a bench app on 127.0.0.1, on the native
// HTTP/1.1 + WebSocket server (`handler.listen()`: C++ on Node's libuv loop, no JS per request)
// or on the node:http path (`handler.createServer()`, what the CLI serves with, without its access
// log). The bench scripts spawn this instead of the CLI so that both paths run the same way.
//
//   node bench/serve.js APP PORT [--http native|node] [--loop asyncio|uvloop]
//                       [--timeout-keep-alive SECONDS] [--app-dir DIR] [--root DIR]
//
// --root: the node-asgi checkout to load (default: this one), for A/B runs of bench/threads.js.
// Prints nothing; waits for connections until killed (SIGTERM/SIGINT close it gracefully).
const path = require('node:path')
const { parseArgs } = require('node:util')

function fail (message) {
  console.error(`serve: ${message}`)
  process.exit(2)
}

let parsed
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      http: { type: 'string', default: 'node' },
      loop: { type: 'string', default: 'asyncio' },
      'timeout-keep-alive': { type: 'string', default: '5' },
      'app-dir': { type: 'string', default: path.join(__dirname, 'apps') },
      root: { type: 'string', default: path.resolve(__dirname, '..') }
    }
  })
} catch (err) {
  fail(err.message)
}
const { values: flags, positionals } = parsed
if (positionals.length !== 2) fail('usage: node bench/serve.js APP PORT [--http native|node] [--loop asyncio|uvloop]')
const [app, portText] = positionals
const port = Number(portText)
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be an integer 0..65535, got '${portText}'`)
if (!['native', 'node'].includes(flags.http)) fail(`--http must be native or node, got '${flags.http}'`)
if (!['asyncio', 'uvloop'].includes(flags.loop)) fail(`--loop must be asyncio or uvloop, got '${flags.loop}'`)
const timeoutKeepAlive = Number(flags['timeout-keep-alive'])
if (!(timeoutKeepAlive > 0) || !Number.isFinite(timeoutKeepAlive)) fail(`--timeout-keep-alive must be a number of seconds > 0, got '${flags['timeout-keep-alive']}'`)

const { PythonHandler } = require(path.join(path.resolve(flags.root), 'lib'))

async function main () {
  // As the CLI runs it with --log-level warning --no-access-log.
  const handler = new PythonHandler({ app, appDir: path.resolve(flags['app-dir']), loop: flags.loop, logLevel: 'warning' })
  let close
  if (flags.http === 'native') {
    if (typeof handler.listen !== 'function') throw new Error(`${flags.root} has no native server (handler.listen())`)
    const server = await handler.listen({ port, host: '127.0.0.1', timeoutKeepAlive })
    close = () => server.close()
  } else {
    await handler.start()
    const server = handler.createServer({ timeoutKeepAlive })
    await new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', resolve)
    })
    close = () => {
      server.close()
      server.closeAllConnections()
    }
  }
  const stop = async () => {
    await close()
    await handler.close()
    process.exit(0)
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch((err) => {
  console.error(`serve: ${err.message}`)
  process.exit(1)
})
