#!/usr/bin/env node
'use strict'
// `npm run bench`: node-asgi beside node:http, uvicorn and (when installed) @platformatic/python-node,
// in one run on 127.0.0.1; uvicorn and the app floor also on a python3 built on the shared libpython
// node-asgi embeds, to tell the interpreter's cost from the server's. Rounds alternate the servers so
// machine drift hits all alike; each cell is the median of the rounds. Load comes from wrk (Debian;
// a C client that leaves Node's cores to the servers), WebSocket load from a client process that
// writes pre-built frames (ws_raw_load.js, for the same reason). Results: a table per workload on
// stdout, and JSON + Markdown under bench/results/ (or --results DIR).
//
// node-asgi runs two ways (bench/serve.js, not the CLI): on the native HTTP/1.1 + WebSocket server
// (`handler.listen()`, C++ on Node's libuv loop, no JS per request: the "native" rows) and on the
// node:http path (`handler.createServer()`: the "node:http path" rows), each on asyncio and uvloop.
// After the tables, a "targets" section computes the ratios the native server's targets name.
//
// The scale-out rows run the CLI (bin/node-asgi.js) itself: `fastapi2` puts `--workers 2` beside
// `uvicorn --workers 2` and both single-worker figures (stateless, so `--no-sticky`: sticky routing
// by client address would put wrk's one address on one worker); `rolling` sends SIGHUP (a rolling
// restart) to the primary while wrk runs and counts failed requests; `sio2` broadcasts through
// Redis to socket.io clients spread over both workers of the socketio-hub example and counts
// deliveries lost or doubled. CPU and RSS columns add up the server's whole process tree.
//
//   npm run bench -- [--only hello,fastapi,ws1,ws10,idle,idle10k,floor,inprocess1,inprocess100,
//                            platformatic100,fastapi2,rolling,sio2]
//                    [--duration 10] [--connections 50] [--rounds 3] [--warmup 2]
//                    [--ws-client frames|ws] [--http-client wrk|raw] [--broadcasts 2000]
//                    [--results bench/results]
// (--connections is also sio2's number of socket.io clients; --broadcasts its broadcasts per round.)
const { spawn, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const { parseArgs } = require('node:util')
const { freePort, waitForPort } = require('./ports')
const { startRedis, redisCommand } = require('../test/redis_support')
const { twoSourcesOnDifferentWorkers } = require('../test/cluster_support')

const ROOT = path.resolve(__dirname, '..')
const APPS = path.join(__dirname, 'apps')
const PYTHON = process.env.NODE_ASGI_PYTHON || '/usr/bin/python3'
const CLK_TCK = 100

const OPTIONS = {
  only: { type: 'string' },
  duration: { type: 'string', default: '10' },
  connections: { type: 'string', default: '50' },
  rounds: { type: 'string', default: '3' },
  warmup: { type: 'string', default: '2' },
  'ws-client': { type: 'string', default: 'frames' },
  broadcasts: { type: 'string', default: '2000' },
  'http-client': { type: 'string', default: 'wrk' },
  results: { type: 'string', default: path.join(__dirname, 'results') }
}
const flags = parseFlags()
function parseFlags () {
  try {
    return parseArgs({ options: OPTIONS }).values
  } catch (err) {
    return usageError(err.message)
  }
}
function usageError (message) {
  console.error(`bench: ${message}`)
  process.exit(2)
}
function numberFlag (name, { min, integer }) {
  const n = Number(flags[name])
  if (!(n >= min) || (integer && !Number.isInteger(n))) usageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${flags[name]}'`)
  return n
}
const DURATION = numberFlag('duration', { min: 0.5, integer: false })
const CONNECTIONS = numberFlag('connections', { min: 1, integer: true })
const ROUNDS = numberFlag('rounds', { min: 1, integer: true })
const WARMUP = numberFlag('warmup', { min: 0, integer: false })
const BROADCASTS = numberFlag('broadcasts', { min: 1, integer: true })
const RESULTS = path.resolve(flags.results)
// WebSocket load: pre-built frames (ws_raw_load.js, the default: cheap enough that the servers, not
// the client, set the pace) or the `ws` client library (ws_load.js: one JS thread parsing every
// message, which caps one connection at about what one server core does).
const WS_CLIENTS = { frames: 'ws_raw_load.js', ws: 'ws_load.js' }
const WS_CLIENT = WS_CLIENTS[flags['ws-client']]
if (WS_CLIENT === undefined) usageError(`--ws-client must be one of ${Object.keys(WS_CLIENTS).join(', ')}, got '${flags['ws-client']}'`)
// HTTP load: wrk (the default), or, where wrk is not installed, http_raw_load.js (a pre-built
// request per connection and only the response headers walked; it takes more CPU than wrk).
const HTTP_CLIENTS = ['wrk', 'raw']
const HTTP_CLIENT = flags['http-client']
if (!HTTP_CLIENTS.includes(HTTP_CLIENT)) usageError(`--http-client must be one of ${HTTP_CLIENTS.join(', ')}, got '${HTTP_CLIENT}'`)

// node-asgi serving `app` through bench/serve.js: http 'node' (handler.createServer(), the
// node:http path the CLI serves with, minus its access log) or 'native' (handler.listen()).
function nodeAsgi (app, loop = 'asyncio', http = 'node', extra = []) {
  return (port) => [process.execPath, [path.join(__dirname, 'serve.js'), app, String(port), '--app-dir', APPS, '--loop', loop, '--http', http, ...extra]]
}
// The row labels, shared by the tables and the targets.
const BARE = 'bare node:http'
const NODE_PATH = 'node-asgi (node:http path)'
const NODE_PATH_UV = 'node-asgi uvloop (node:http path)'
const NATIVE = 'node-asgi native'
const NATIVE_UV = 'node-asgi native uvloop'
/** The four node-asgi rows for `app`: node:http path and native, asyncio and uvloop. */
function nodeAsgiRows (app) {
  return {
    [NODE_PATH]: nodeAsgi(app),
    [NODE_PATH_UV]: nodeAsgi(app, 'uvloop'),
    [NATIVE]: nodeAsgi(app, 'asyncio', 'native'),
    [NATIVE_UV]: nodeAsgi(app, 'uvloop', 'native')
  }
}
function uvicorn (app, python = () => PYTHON) {
  return (port) => [python(), ['-m', 'uvicorn', app, '--app-dir', APPS, '--port', String(port), '--loop', 'uvloop', '--http', 'httptools', '--ws', 'websockets', '--no-access-log', '--log-level', 'warning']]
}
// The CLI as a user runs it (native server, --loop auto: uvloop), without its access log. The
// third element of a command is { env, ready }: more environment, and a test of the server's
// stderr that says it serves (a cluster's primary listens before its workers are up; it logs
// "running on" once they all are, whatever --log-level says).
const CLI = path.join(ROOT, 'bin', 'node-asgi.js')
const HUB_DIR = path.join(ROOT, 'examples', 'socketio-hub')
function cli (app, extra = [], { appDir = APPS, env = {} } = {}) {
  const workers = extra.includes('--workers') ? Number(extra[extra.indexOf('--workers') + 1]) : 1
  const command = (port) => [process.execPath, [CLI, app, '--app-dir', appDir, '--host', '127.0.0.1', '--port', String(port), '--no-access-log', '--log-level', 'warning', ...extra],
    { env, ready: workers > 1 ? (stderr) => /node-asgi running on /.test(stderr) : null }]
  return Object.assign(command, { workers })
}
// uvicorn --workers N (flags as uvicorn()'s): the workers share the parent's socket, so the port
// answers before they are up. At --log-level info (no access log: nothing per request) each
// worker says "Application startup complete."
function uvicornWorkers (app, workers) {
  return (port) => {
    const [cmd, args] = uvicorn(app)(port)
    args.splice(args.indexOf('--log-level'), 2, '--log-level', 'info', '--workers', String(workers))
    return [cmd, args, { ready: (stderr) => (stderr.match(/Application startup complete\./g) || []).length >= workers }]
  }
}
// The scale-out rows. Stateless HTTP rows use --no-sticky (round-robin): the default routes by
// client address, and wrk's one address (127.0.0.1) would all go to one worker.
const W2 = 'node-asgi --workers 2 --no-sticky'
const W2_ASYNCIO = 'node-asgi --workers 2 --no-sticky --loop asyncio'
const W1 = 'node-asgi CLI, 1 process'
const UV2 = 'uvicorn --workers 2'
const SIO_W2 = 'node-asgi --workers 2 (sticky), Redis'
const SIO_W1 = 'node-asgi, 1 process, Redis'
// the socketio-hub example, with a budget no run reaches (every event costs a point)
const HUB_SECRET = 'bench-secret'
const hub = (extra) => cli('app:app', extra, { appDir: HUB_DIR, env: { JWT_SECRET: HUB_SECRET, RATE_LIMIT_POINTS: '1000000' } })

// Debian's python3 is a statically linked, optimised binary; node-asgi embeds the shared
// libpython, which runs the same Python code 13–27% slower on this machine kind. A python3 built
// on that library (native/python_shared.c, compiled here on first use) runs uvicorn and the floor
// on the interpreter node-asgi has, so the bench can tell the interpreter's cost from the server's.
const PYTHON_INFO = readPythonInfo()
const SHARED_LIB = PYTHON_INFO.ldlibrary
function readPythonInfo () {
  const file = path.join(ROOT, 'build/python.json') // the embedded Python, written by the build
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    return usageError(`cannot read ${path.relative(ROOT, file)} (${err.code || err.message}): build the addon first (npm run build)`)
  }
}
let sharedPython = null
function pythonOnSharedLib () {
  if (sharedPython === null) {
    const info = PYTHON_INFO // the embedded Python's include and library directories
    const out = path.join(__dirname, 'native/build/python-shared')
    fs.mkdirSync(path.dirname(out), { recursive: true })
    try {
      execFileSync('cc', ['-O2', `-I${info.include}`, path.join(__dirname, 'native/python_shared.c'), '-o', out,
        `-L${info.libdir}`, `-lpython${info.ldversion}`, `-Wl,-rpath,${info.libdir}`], { stdio: ['ignore', 'ignore', 'pipe'] })
    } catch (err) {
      throw new Error(`cannot build a python3 on ${info.ldlibrary}: ${String(err.stderr || err.message).trim()}`)
    }
    sharedPython = out
  }
  return sharedPython
}

// The incumbent, when installed here or in the directory the bench runs from; else skipped.
function platformaticModule () {
  try {
    return require.resolve('@platformatic/python-node', { paths: [ROOT, process.cwd()] })
  } catch {
    return null
  }
}
function platformatic (app) {
  const modulePath = platformaticModule()
  if (modulePath === null) return null
  return (port) => [process.execPath, [path.join(__dirname, 'platformatic_server.js'), app, String(port), modulePath]]
}

// Each workload: the servers it compares and how load is applied.
const WORKLOADS = {
  hello: {
    title: 'raw ASGI hello (HTTP/1.1 keep-alive)',
    load: 'wrk',
    url: '/',
    ratios: ['uvicorn', BARE],
    servers: {
      [BARE]: (port) => [process.execPath, [path.join(__dirname, 'node_hello.js'), String(port)]],
      ...nodeAsgiRows('bench_apps:hello'),
      uvicorn: uvicorn('bench_apps:hello'),
      '@platformatic/python-node': platformatic('bench_apps:hello')
    }
  },
  fastapi: {
    title: 'FastAPI JSON route',
    load: 'wrk',
    url: '/items/42?q=bench',
    ratios: ['uvicorn', `uvicorn on ${SHARED_LIB}`],
    servers: {
      ...nodeAsgiRows('bench_apps:fastapi_app'),
      uvicorn: uvicorn('bench_apps:fastapi_app'),
      [`uvicorn on ${SHARED_LIB}`]: uvicorn('bench_apps:fastapi_app', pythonOnSharedLib),
      '@platformatic/python-node': platformatic('bench_apps:fastapi_app')
    }
  },
  ws1: {
    title: 'WebSocket echo, 1 connection, 64 messages in flight (messages/s)',
    load: 'ws',
    ws: { connections: 1, window: 64 },
    ratios: ['uvicorn'],
    servers: { ...nodeAsgiRows('bench_apps:ws_echo'), uvicorn: uvicorn('bench_apps:ws_echo') }
  },
  ws10: {
    title: 'WebSocket echo, 10 connections, 64 messages in flight each (messages/s)',
    load: 'ws',
    ws: { connections: 10, window: 64 },
    ratios: ['uvicorn'],
    servers: { ...nodeAsgiRows('bench_apps:ws_echo'), uvicorn: uvicorn('bench_apps:ws_echo') }
  },
  idle: {
    title: 'idle after a burst of hello requests: CPU and wakeups per second with no load',
    load: 'idle',
    url: '/',
    columns: 'idle',
    servers: { ...nodeAsgiRows('bench_apps:hello'), uvicorn: uvicorn('bench_apps:hello') }
  },
  idle10k: {
    title: 'hello with 10,000 idle keep-alive connections open (one request each): server RSS',
    load: 'connections',
    columns: 'connections',
    connections: 10000,
    rounds: 1, // one pass per server: opening and closing 10k connections is the measurement
    servers: {
      // keep-alive timeout far above the time it takes to open them all
      [NATIVE]: nodeAsgi('bench_apps:hello', 'asyncio', 'native', ['--timeout-keep-alive', '600']),
      [NODE_PATH]: nodeAsgi('bench_apps:hello', 'asyncio', 'node', ['--timeout-keep-alive', '600'])
    }
  },
  floor: {
    title: 'FastAPI JSON route alone, no server: calls/s on one asyncio thread (the ceiling for one loop thread)',
    load: 'floor',
    app: 'fastapi_app',
    ratios: ['python3'],
    servers: {
      python3: 'python3', // Debian's /usr/bin/python3, the binary uvicorn runs on
      [`python3 on ${SHARED_LIB}`]: 'shared', // the same Python code on the library node-asgi embeds
      [`node-asgi (embedded ${SHARED_LIB})`]: 'embedded'
    }
  },
  inprocess1: {
    title: 'in-process handleRequest(), 1 in flight (calls/s)',
    load: 'inprocess',
    inFlight: 1,
    servers: { 'node-asgi asyncio': 'asyncio', 'node-asgi uvloop': 'uvloop' }
  },
  inprocess100: {
    title: 'in-process handleRequest(), 100 in flight (calls/s)',
    load: 'inprocess',
    inFlight: 100,
    servers: { 'node-asgi asyncio': 'asyncio', 'node-asgi uvloop': 'uvloop' }
  },
  platformatic100: {
    title: "in-process handleRequest() of @platformatic/python-node's API on the raw ASGI hello, 100 in flight (calls/s)",
    load: 'platformatic',
    inFlight: 100,
    ratios: ['@platformatic/python-node'],
    servers: {
      'node-asgi/platformatic': path.join(ROOT, 'lib/platformatic.js'),
      '@platformatic/python-node': platformaticModule()
    }
  },
  fastapi2: {
    title: 'FastAPI JSON route on 2 workers (the CLI, round-robin) beside 1; wrk shares the 2 cores',
    load: 'wrk',
    url: '/items/42?q=bench',
    ratios: [UV2, 'uvicorn', W1],
    servers: {
      [W2]: cli('bench_apps:fastapi_app', ['--workers', '2', '--no-sticky']),
      [W2_ASYNCIO]: cli('bench_apps:fastapi_app', ['--workers', '2', '--no-sticky', '--loop', 'asyncio']),
      [W1]: cli('bench_apps:fastapi_app'),
      [UV2]: uvicornWorkers('bench_apps:fastapi_app', 2),
      uvicorn: uvicorn('bench_apps:fastapi_app')
    }
  },
  rolling: {
    title: 'rolling restart: SIGHUP to the primary of --workers 2 --no-sticky while wrk runs (FastAPI JSON route)',
    load: 'rolling',
    url: '/items/42?q=bench',
    columns: 'rolling',
    sum: ['requests', 'non2xx', 'connectErrors', 'readErrors', 'writeErrors', 'timeouts', 'failed', 'sighups', 'restarts'],
    servers: {
      [`${W2} (native server)`]: cli('bench_apps:fastapi_app', ['--workers', '2', '--no-sticky']),
      [`${W2} --http node`]: cli('bench_apps:fastapi_app', ['--workers', '2', '--no-sticky', '--http', 'node'])
    }
  },
  sio2: {
    title: 'socket.io broadcast through Redis (examples/socketio-hub, `tts_notification` to every client; socket.io-client, default transports, from 2 source addresses)',
    load: 'sio',
    columns: 'sio',
    ratios: [SIO_W1],
    sum: ['expected', 'deliveries', 'lost', 'doubled'],
    servers: {
      [SIO_W2]: hub(['--workers', '2']),
      [SIO_W1]: hub([])
    }
  }
}

// `pid` and its descendants (a server's workers), from /proc.
function processTree (pid) {
  const children = new Map()
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (!children.has(ppid)) children.set(ppid, [])
      children.get(ppid).push(Number(name))
    } catch { /* gone meanwhile */ }
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []))
  return tree
}

// CPU seconds, peak RSS and wakeups of a server: the sums over its process tree (one process,
// or a primary and its workers).
function treeStats (pid) {
  const total = { cpu: 0, hwm: 0, wakeups: 0 }
  for (const p of processTree(pid)) {
    const s = procStats(p)
    if (p === pid && !Number.isFinite(s.cpu)) return s
    for (const k of Object.keys(total)) if (Number.isFinite(s[k])) total[k] += s[k]
  }
  return total
}

// CPU seconds (user + system) and peak RSS of a process, from /proc.
function procStats (pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] || 0) * 1024
    // times any of its threads went to sleep and was woken: how often an idle server wakes up
    let wakeups = 0
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const task = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
      wakeups += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(task)?.[1] || 0)
    }
    return { cpu, hwm, wakeups }
  } catch {
    return { cpu: NaN, hwm: NaN, wakeups: NaN }
  }
}

function run (cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => { out += d })
    child.stderr.on('data', (d) => { err += d })
    child.on('error', reject)
    child.on('exit', (code) => code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err.slice(-500)}`)))
  })
}

function parseWrk (text) {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1])
  const toMs = (v, unit) => Number(v) * ({ us: 1e-3, ms: 1, s: 1e3 }[unit] ?? NaN)
  const pct = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(text)
    return m ? toMs(m[1], m[2]) : NaN
  }
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] || /Socket errors: (.*)/.exec(text)?.[1]
  // wrk prints these two lines only when they are not zero
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text)?.slice(1).map(Number) ?? [0, 0, 0, 0]
  const [connectErrors, readErrors, writeErrors, timeouts] = socket
  return {
    rps,
    p50: pct(50),
    p99: pct(99),
    errors: errors || null,
    requests: Number(/(\d+) requests in /.exec(text)?.[1]),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    connectErrors,
    readErrors,
    writeErrors,
    timeouts
  }
}

/** HTTP keep-alive load on `url` for `seconds` from CONNECTIONS connections: parseWrk()'s fields. */
function httpLoad (url, seconds) {
  if (HTTP_CLIENT === 'raw') return run(process.execPath, [path.join(__dirname, 'http_raw_load.js'), url, String(CONNECTIONS), String(seconds)]).then(JSON.parse)
  // wrk takes whole seconds (-d0.5s exits 1); --latency prints the percentiles parseWrk reads
  return run('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${Math.max(1, Math.round(seconds))}s`, '--latency', url]).then(parseWrk)
}

/** Polls `test` (may be async) until it is true; rejects if `child` exits first or after `timeoutMs`. */
async function until (test, child, what, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs
  while (!await test()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before ${what}`)
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * Runs `command` (a server) on a free port, with `env` added to its environment; calls
 * `fn(port, child, stderr())` once it listens and its `ready` test passes, then kills it and its
 * workers.
 */
async function withServer (command, fn, env = {}) {
  const port = await freePort()
  const [cmd, args, options = {}] = command(port)
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: ROOT, env: { ...process.env, ...options.env, ...env } })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  try {
    await waitForPort(port, child)
    if (options.ready) await until(() => options.ready(stderr), child, 'ready line on stderr')
    return await fn(port, child, () => stderr)
  } catch (err) {
    const reason = stderr.trim().split('\n').pop()
    throw new Error(reason ? `${err.message}: ${reason}` : err.message)
  } finally {
    // the workers of a uvicorn --workers parent outlive its SIGKILL: end them by pid too
    for (const pid of processTree(child.pid).slice(1)) {
      try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
    }
    child.kill('SIGKILL')
    await new Promise((resolve) => child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve))
  }
}

function measureServer (workload, command) {
  return withServer(command, async (port, child) => {
    const url = `http://127.0.0.1:${port}${workload.url || '/'}`
    const wsUrl = `ws://127.0.0.1:${port}/`
    const wrk = (seconds) => httpLoad(url, seconds)
    const loads = {
      wrk,
      ws: (seconds) => run(process.execPath, [path.join(__dirname, WS_CLIENT), wsUrl, String(workload.ws.connections), String(workload.ws.window), String(seconds)]).then(JSON.parse),
      // after serving a burst (the warm-up), nothing: what the server costs while idle
      idle: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000, { rps: NaN, p50: NaN, p99: NaN }))
    }
    const load = loads[workload.load]
    if (WARMUP > 0) await (workload.load === 'idle' ? wrk(WARMUP).then(() => load(1)) : load(WARMUP))
    const before = treeStats(child.pid)
    const t0 = Date.now()
    const result = await load(DURATION)
    const elapsed = (Date.now() - t0) / 1000
    const after = treeStats(child.pid)
    return { ...result, cpu: (after.cpu - before.cpu) / elapsed, rss: after.hwm, wakeups: (after.wakeups - before.wakeups) / elapsed }
  })
}

// rolling: wrk for --duration while the primary gets SIGHUP (restart the workers one at a time) at
// 20% of the run and, once that restart is done, again at 50% if that is before 60%: a SIGHUP
// during a restart is folded into it. Counts what wrk reports as failed and the restarts that
// finished ("Workers restarted" on the primary's stderr) while the load ran.
function measureRolling (workload, command) {
  return withServer(command, async (port, child, stderr) => {
    const url = `http://127.0.0.1:${port}${workload.url}`
    const wrk = (seconds) => httpLoad(url, seconds)
    const restarts = () => (stderr().match(/Workers restarted/g) || []).length
    if (WARMUP > 0) await wrk(WARMUP)
    const base = restarts()
    let loadDone = false
    let restartsUnderLoad = 0
    const seconds = Math.max(1, Math.round(DURATION))
    const t0 = Date.now()
    const load = wrk(seconds).finally(() => {
      loadDone = true
      restartsUnderLoad = restarts() - base
    })
    const elapsed = () => (Date.now() - t0) / 1000
    const waitUntil = (test) => until(() => loadDone || test(), child, 'the restart')
    let sighups = 0
    const hup = () => { if (!loadDone) { child.kill('SIGHUP'); sighups++ } }
    await waitUntil(() => elapsed() >= 0.2 * seconds)
    hup()
    await waitUntil(() => restarts() > base)
    if (elapsed() < 0.6 * seconds) {
      await waitUntil(() => elapsed() >= 0.5 * seconds)
      hup()
    }
    const r = await load
    if (!Number.isFinite(r.requests)) throw new Error('the HTTP load client reported no request count')
    const failed = r.non2xx + r.connectErrors + r.readErrors + r.writeErrors + r.timeouts
    return { ...r, failed, sighups, restarts: restartsUnderLoad, cpu: NaN, rss: NaN }
  })
}

// sio2: a redis-server of its own for each measurement, the hub on it, and bench/sio_broadcast.js
// (its own process) connecting the clients from two loopback addresses that the primary's hash
// sends to different workers of 2 (the single-process row gets them both too).
const SIO_CLIENT = path.join(__dirname, 'sio_broadcast.js')

async function measureSio (workload, command) {
  const redis = await startRedis()
  try {
    return await withServer(command, async (port, child) => {
      // every hub process subscribed to the Redis channel before anything is sent
      await until(async () => (await redisCommand(redis.port, 'PUBSUB', 'NUMSUB', 'socketio'))[1] === command.workers,
        child, `${command.workers} hub process(es) subscribed to Redis`)
      const warmup = WARMUP > 0 ? Math.min(100, Math.ceil(BROADCASTS / 10)) : 0
      const clients = Math.max(2, CONNECTIONS)
      const out = await run(process.execPath, [SIO_CLIENT, `http://127.0.0.1:${port}`, String(clients), String(BROADCASTS), String(warmup), twoSourcesOnDifferentWorkers().join(',')],
        { env: { ...process.env, JWT_SECRET: HUB_SECRET } })
      const r = JSON.parse(out)
      if (r.workers !== command.workers) throw new Error(`the clients reached ${r.workers} hub process(es), not ${command.workers}`)
      return { ...r, cpu: NaN, rss: NaN }
    }, { REDIS_URL: redis.url })
  } finally {
    await redis.stop()
  }
}

// idle10k: many idle keep-alive connections, each after one request, and what they cost the server
// in resident memory. The bench process holds the client ends, so both it and the server need a
// descriptor per connection: the count is scaled down to the open-files limit when that is lower.
const CONNECTION_BATCH = 250 // connects in flight at once (under node:http's default backlog of 511)
const CONNECTIONS_BUDGET_MS = 25000 // per server, to open them all
const HELLO_RESPONSE_END = 'Hello, world!'

function openFilesLimit () {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1])
}
function vmRss (pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024
}
function openFds (pid) {
  try { return fs.readdirSync(`/proc/${pid}/fd`).length } catch { return NaN }
}

/** Resolves when `socket` has received one whole hello response (rejects on another status or a timeout). */
function helloResponse (socket, timeoutMs) {
  return new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => { socket.off('data', onData); reject(new Error(`no response within ${timeoutMs} ms`)) }, timeoutMs)
    const onData = (chunk) => {
      text += chunk.toString('latin1')
      if (!text.endsWith(HELLO_RESPONSE_END)) return
      clearTimeout(timer)
      socket.off('data', onData)
      if (!text.startsWith('HTTP/1.1 200')) return reject(new Error(`unexpected response: ${text.split('\r\n')[0]}`))
      resolve()
    }
    socket.on('data', onData)
  })
}

/** A keep-alive connection that has been served one hello; `socket.closedEarly` if the server closes it. */
function helloConnection (port, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
      helloResponse(socket, timeoutMs).then(() => {
        socket.removeAllListeners('error')
        socket.on('error', () => {})
        socket.once('close', () => { socket.closedEarly = true })
        resolve(socket)
      }, (err) => { socket.destroy(); reject(err) })
    })
  })
}

/** One more request on `socket` (already served once): resolves to the time it took in ms. */
async function requestOn (socket, timeoutMs = 10000) {
  const t0 = process.hrtime.bigint()
  const answered = helloResponse(socket, timeoutMs)
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  await answered
  return Number(process.hrtime.bigint() - t0) / 1e6
}

function measureConnections (workload, command) {
  const limit = openFilesLimit()
  const wanted = workload.connections
  const count = Math.max(1, Math.min(wanted, limit - 256)) // leave room for the processes' own descriptors
  return withServer(command, async (port, child) => {
    const sockets = []
    try {
      const fresh = await helloConnection(port) // warm the server up, and the baseline
      fresh.destroy()
      await new Promise((resolve) => setTimeout(resolve, 300))
      const rssBefore = vmRss(child.pid)
      const fdsBefore = openFds(child.pid)
      const t0 = Date.now()
      while (sockets.length < count) {
        if (Date.now() - t0 > CONNECTIONS_BUDGET_MS) throw new Error(`opened only ${sockets.length} of ${count} connections in ${CONNECTIONS_BUDGET_MS / 1000} s`)
        const batch = Math.min(CONNECTION_BATCH, count - sockets.length)
        sockets.push(...await Promise.all(Array.from({ length: batch }, () => helloConnection(port))))
      }
      const openSeconds = (Date.now() - t0) / 1000
      await new Promise((resolve) => setTimeout(resolve, 1000)) // let the server settle
      const samples = []
      for (let i = 0; i < 3; i++) {
        samples.push(vmRss(child.pid))
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      const rssOpen = median(samples)
      const fdsOpen = openFds(child.pid)
      // still serving with them all open: a new connection, and a request on the oldest idle one
      const t1 = process.hrtime.bigint()
      const extra = await helloConnection(port)
      const newMs = Number(process.hrtime.bigint() - t1) / 1e6
      extra.destroy()
      const idleMs = await requestOn(sockets[0])
      const closedEarly = sockets.filter((s) => s.closedEarly).length
      return {
        connections: count,
        wanted,
        openFilesLimit: limit,
        rssBefore,
        rss: rssOpen,
        perConnection: (rssOpen - rssBefore) / count,
        fdsBefore,
        fdsOpen,
        openSeconds,
        newMs,
        idleMs,
        closedEarly,
        rps: NaN,
        cpu: NaN
      }
    } finally {
      for (const s of sockets) s.destroy()
    }
  })
}

async function measureFloor (workload, where) {
  const seconds = String(DURATION)
  const script = [path.join(APPS, 'app_floor.py'), workload.app, seconds]
  const out = where === 'embedded'
    ? await run(process.execPath, [path.join(__dirname, 'app_floor.js'), workload.app, seconds])
    : await run(where === 'python3' ? PYTHON : pythonOnSharedLib(), script)
  const { rps, cpu } = JSON.parse(out)
  return { rps, cpu, p50: NaN, p99: NaN, rss: NaN }
}

async function measureInProcess (workload, loop) {
  const out = await run(process.execPath, [path.join(__dirname, 'inprocess.js'), String(workload.inFlight), String(DURATION), loop])
  return JSON.parse(out)
}

async function measurePlatformatic (workload, modulePath) {
  const out = await run(process.execPath, [path.join(__dirname, 'platformatic_inprocess.js'), modulePath, String(workload.inFlight), String(DURATION)])
  return JSON.parse(out)
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function fmt (n, digits = 0) {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–'
}

function idleTable (name, workload, rows) {
  const lines = [`### ${name}: ${workload.title}`, '', '| server | CPU cores | wakeups/s | peak RSS MiB |', '| --- | ---: | ---: | ---: |']
  for (const r of rows) {
    lines.push(r.skipped ? `| ${r.server} | ${r.skipped} | | |` : `| ${r.server} | ${fmt(r.cpu, 4)} | ${fmt(r.wakeups, 1)} | ${fmt(r.rss / 1048576, 1)} |`)
  }
  return lines.join('\n')
}

function connectionsTable (name, workload, rows) {
  const lines = [`### ${name}: ${workload.title}`, '',
    '| server | connections | RSS before MiB | RSS with them open MiB | KiB per connection | open fds | s to open | new request ms | request on an idle one ms | closed by the server |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
  for (const r of rows) {
    lines.push(r.skipped
      ? `| ${r.server} | ${r.skipped} | | | | | | | | |`
      : `| ${r.server} | ${fmt(r.connections)} | ${fmt(r.rssBefore / 1048576, 1)} | ${fmt(r.rss / 1048576, 1)} | ${fmt(r.perConnection / 1024, 2)} | ${fmt(r.fdsOpen)} | ${fmt(r.openSeconds, 1)} | ${fmt(r.newMs, 2)} | ${fmt(r.idleMs, 2)} | ${fmt(r.closedEarly)} |`)
  }
  const scaled = rows.find((r) => r.connections < r.wanted)
  if (scaled) lines.push('', `Note: ${fmt(scaled.connections)} connections instead of ${fmt(scaled.wanted)}: the open-files limit is ${fmt(scaled.openFilesLimit)} (the bench process holds the client ends, the server the others; raise it with \`ulimit -n\`).`)
  return lines.join('\n')
}

function rollingTable (name, workload, rows) {
  const lines = [`### ${name}: ${workload.title}`, '',
    `${CONNECTIONS} connections, ${Math.max(1, Math.round(DURATION))} s per round; counts are totals over the rounds, req/s and p99 medians.`, '',
    '| server | requests | req/s | p99 ms | non-2xx | socket errors: connect / read / write / timeout | failed | SIGHUPs sent | restarts done under load |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
  for (const r of rows) {
    lines.push(r.skipped
      ? `| ${r.server} | ${r.skipped} | | | | | | | |`
      : `| ${r.server} | ${fmt(r.requests)} | ${fmt(r.rps)} | ${fmt(r.p99, 2)} | ${fmt(r.non2xx)} | ${[r.connectErrors, r.readErrors, r.writeErrors, r.timeouts].map((n) => fmt(n)).join(' / ')} | ${fmt(r.failed)} | ${fmt(r.sighups)} | ${fmt(r.restarts)} |`)
  }
  return lines.join('\n')
}

function sioTable (name, workload, rows) {
  const refs = workload.ratios.map((server) => [server, rows.find((r) => r.server === server)?.rps])
  const lines = [`### ${name}: ${workload.title}`, '',
    `${BROADCASTS} broadcasts per round from 2 senders (each with up to 16 not yet back at it); delivered, lost and doubled are totals over the rounds, the rest medians.`, '',
    `| server | deliveries/s | broadcasts/s | clients | hub processes | latency p50 ms | p99 ms | delivered | lost | doubled |${refs.map(([s]) => ` × ${s} |`).join('')}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${refs.map(() => ' ---: |').join('')}`]
  for (const r of rows) {
    if (r.skipped) {
      lines.push(`| ${r.server} | ${r.skipped} | | | | | | | | |${refs.map(() => ' |').join('')}`)
      continue
    }
    const ratios = refs.map(([, ref]) => ` ${ref ? fmt(r.rps / ref, 2) : ''} |`).join('')
    lines.push(`| ${r.server} | ${fmt(r.rps)} | ${fmt(r.broadcastsPerSecond)} | ${fmt(r.clients)} | ${fmt(r.workers)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.deliveries)} | ${fmt(r.lost)} | ${fmt(r.doubled)} |${ratios}`)
  }
  return lines.join('\n')
}

function table (name, workload, rows) {
  if (workload.columns === 'idle') return idleTable(name, workload, rows)
  if (workload.columns === 'connections') return connectionsTable(name, workload, rows)
  if (workload.columns === 'rolling') return rollingTable(name, workload, rows)
  if (workload.columns === 'sio') return sioTable(name, workload, rows)
  const refs = (workload.ratios || ['uvicorn', BARE]).map((server) => [server, rows.find((r) => r.server === server)?.rps])
  const lines = [
    `### ${name}: ${workload.title}`,
    '',
    `| server | req/s | p50 ms | p99 ms | peak RSS MiB | CPU cores |${refs.map(([s]) => ` × ${s} |`).join('')}`,
    `| --- | ---: | ---: | ---: | ---: | ---: |${refs.map(() => ' ---: |').join('')}`
  ]
  for (const r of rows) {
    if (r.skipped) {
      lines.push(`| ${r.server} | ${r.skipped} | | | | |${refs.map(() => ' |').join('')}`)
      continue
    }
    const ratios = refs.map(([, ref]) => ` ${ref ? fmt(r.rps / ref, 2) : ''} |`).join('')
    lines.push(`| ${r.server} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.rss / 1048576, 1)} | ${fmt(r.cpu, 2)} |${ratios}`)
  }
  return lines.join('\n')
}

// The native server's targets, as ratios between rows of this run (a check whose rows did not
// run or failed is left out).
const TARGETS = [
  ...[NATIVE, NATIVE_UV].flatMap((server) => [
    { check: `hello: ${server} ÷ uvicorn, req/s`, a: ['hello', server], b: ['hello', 'uvicorn'], min: 2.0 },
    { check: `hello: ${server} ÷ ${BARE}, req/s`, a: ['hello', server], b: ['hello', BARE], min: 1.5 }
  ]),
  ...[NODE_PATH, NODE_PATH_UV].map((server) =>
    ({ check: `hello: ${server} ÷ ${BARE}, req/s`, a: ['hello', server], b: ['hello', BARE], min: 0.85 })),
  { check: `fastapi: ${NATIVE} ÷ uvicorn, req/s`, a: ['fastapi', NATIVE], b: ['fastapi', 'uvicorn'], min: 1.4 },
  { check: `fastapi: ${NATIVE_UV} ÷ uvicorn, req/s (informative: the target names asyncio)`, a: ['fastapi', NATIVE_UV], b: ['fastapi', 'uvicorn'], min: 1.4 },
  // the floor's embedded row runs the route on node-asgi's asyncio loop thread: the same loop as NATIVE
  { check: `fastapi: ${NATIVE} req/s ÷ floor's embedded asyncio calls/s`, a: ['fastapi', NATIVE], b: ['floor', `node-asgi (embedded ${SHARED_LIB})`], min: 0.95 },
  ...['ws1', 'ws10'].flatMap((w) => [NATIVE, NATIVE_UV].map((server) =>
    ({ check: `${w}: ${server} ÷ uvicorn, messages/s`, a: [w, server], b: [w, 'uvicorn'], min: 2.5 }))),
  ...['hello', 'fastapi'].flatMap((w) => [NATIVE, NATIVE_UV].map((server) =>
    ({ check: `${w}: ${server} p99 ÷ uvicorn p99 (lower is better)`, a: [w, server], b: [w, 'uvicorn'], key: 'p99', max: 1.0, unit: 'ms', digits: 2 }))),
  { check: `idle10k: ${NATIVE} RSS ÷ ${NODE_PATH} RSS, connections open (lower is better)`, a: ['idle10k', NATIVE], b: ['idle10k', NODE_PATH], key: 'rss', max: 1.0, strict: true, unit: 'MiB', scale: 1 / 1048576, digits: 1 },
  // scale-out (issue 11); `count` checks compare a row's number itself, not a ratio
  { check: `fastapi2: ${W2} ÷ ${UV2}, req/s`, a: ['fastapi2', W2], b: ['fastapi2', UV2], min: 1.3 },
  { check: `fastapi2: ${W2_ASYNCIO} ÷ ${UV2}, req/s (informative: the target names the CLI's default loop)`, a: ['fastapi2', W2_ASYNCIO], b: ['fastapi2', UV2], min: 1.3 },
  ...Object.keys(WORKLOADS.rolling.servers).flatMap((server) => [
    { check: `rolling: ${server}: failed requests (non-2xx + socket errors, all rounds)`, a: ['rolling', server], key: 'failed', max: 0, count: true },
    { check: `rolling: ${server}: restarts done under load`, a: ['rolling', server], key: 'restarts', min: 1, count: true }
  ]),
  ...['lost', 'doubled'].map((key) => ({ check: `sio2: ${SIO_W2}: deliveries ${key} (all rounds)`, a: ['sio2', SIO_W2], key, max: 0, count: true })),
  // issue 13: the drop-in entry point against the package it replaces
  { check: 'platformatic100: node-asgi/platformatic ÷ @platformatic/python-node, calls/s', a: ['platformatic100', 'node-asgi/platformatic'], b: ['platformatic100', '@platformatic/python-node'], min: 100 }
]

function evaluateTargets (results) {
  const row = ([workload, server]) => results[workload]?.rows.find((r) => r.server === server && !r.skipped)
  const out = []
  for (const t of TARGETS) {
    const key = t.key ?? 'rps'
    const a = row(t.a)?.[key]
    if (t.count) {
      if (!Number.isFinite(a)) continue
      const met = t.min !== undefined ? a >= t.min : a <= t.max
      const target = t.min !== undefined ? `≥ ${t.min}` : t.max === 0 ? '0' : `≤ ${t.max}`
      const r = row(t.a)
      const detail = key === 'restarts' ? `${fmt(r.sighups)} SIGHUPs, ${fmt(r.requests)} requests` : key === 'failed' ? `of ${fmt(r.requests)} requests` : `of ${fmt(r.expected)}, at ${fmt(r.rps)} deliveries/s`
      out.push({ check: t.check, value: a, target, met, detail, shown: fmt(a) })
      continue
    }
    const b = row(t.b)?.[key]
    if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) continue
    const value = a / b
    const met = t.min !== undefined ? value >= t.min : (t.strict ? value < t.max : value <= t.max)
    const target = t.min !== undefined ? `≥ ${t.min.toFixed(2)}×` : `${t.strict ? '<' : '≤'} ${t.max.toFixed(2)}×`
    const scale = t.scale ?? 1
    const unit = t.unit ? ` ${t.unit}` : '/s'
    const detail = `${fmt(a * scale, t.digits ?? 0)}${unit} vs ${fmt(b * scale, t.digits ?? 0)}${unit}`
    out.push({ check: t.check, value: Number(value.toFixed(4)), target, met, detail, shown: `${fmt(value, 2)}×` })
  }
  return out
}

function targetsTable (targets) {
  const lines = ['### targets: ratios (or counts) within this run', '', '| check | value | measured | target | met |', '| --- | ---: | --- | --- | --- |']
  for (const t of targets) lines.push(`| ${t.check} | ${t.shown} | ${t.detail} | ${t.target} | ${t.met ? 'yes' : '**no**'} |`)
  return lines.join('\n')
}

async function main () {
  const names = flags.only ? flags.only.split(',') : Object.keys(WORKLOADS)
  for (const n of names) if (!WORKLOADS[n]) usageError(`--only: unknown workload '${n}' (choose from ${Object.keys(WORKLOADS).join(', ')})`)
  if (HTTP_CLIENT === 'wrk') {
    try { execFileSync('wrk', ['--version'], { stdio: 'ignore' }) } catch (err) {
      if (err.code === 'ENOENT' && names.some((n) => ['wrk', 'idle', 'rolling'].includes(WORKLOADS[n].load))) throw new Error('wrk is not installed (apt-get install wrk, or run `bash scripts/setup.sh --bench`; or use --http-client raw)')
    }
  }
  const started = new Date()
  // other work on the machine skews a run: the load average before and after says how much there was
  const loadBefore = require('node:os').loadavg()
  const results = {}
  const sections = []
  for (const name of names) {
    const workload = WORKLOADS[name]
    const servers = Object.entries(workload.servers)
    const samples = Object.fromEntries(servers.map(([s]) => [s, []]))
    const rounds = Math.min(ROUNDS, workload.rounds ?? ROUNDS)
    for (let round = 0; round < rounds; round++) {
      // rotate the order each round so that drift does not always favour the same server
      const order = servers.map((_, i) => servers[(i + round) % servers.length])
      for (const [server, command] of order) {
        if (command === null) continue
        process.stderr.write(`${name} round ${round + 1}/${rounds}: ${server} ... `)
        try {
          const measure = { inprocess: measureInProcess, platformatic: measurePlatformatic, floor: measureFloor, connections: measureConnections, rolling: measureRolling, sio: measureSio }[workload.load] ?? measureServer
          const r = await measure(workload, command)
          samples[server].push(r)
          process.stderr.write({
            idle: () => `${fmt(r.cpu, 4)} cores\n`,
            connections: () => `${fmt(r.connections)} open, RSS ${fmt(r.rss / 1048576, 1)} MiB\n`,
            rolling: () => `${fmt(r.requests)} requests, ${fmt(r.failed)} failed, ${r.restarts} of ${r.sighups} restarts done under load\n`,
            sio: () => `${fmt(r.rps)} deliveries/s, ${fmt(r.lost)} lost, ${fmt(r.doubled)} doubled\n`
          }[workload.load]?.() ?? `${fmt(r.rps)}/s\n`)
        } catch (err) {
          samples[server].push({ error: err.message })
          process.stderr.write(`failed: ${err.message.split('\n')[0]}\n`)
        }
      }
    }
    const rows = servers.map(([server, command]) => {
      if (command === null) return { server, skipped: 'not installed: skipped' }
      const ok = samples[server].filter((s) => !s.error)
      if (ok.length === 0) return { server, skipped: `failed: ${samples[server][0]?.error.split('\n')[0]}` }
      const row = { server, rounds: ok.length }
      // the median of every number the rounds measured (rps, p50, p99, rss, cpu, wakeups...)
      const keys = new Set(['rps', 'p50', 'p99', 'rss', 'cpu', 'wakeups'])
      for (const s of ok) for (const [k, v] of Object.entries(s)) if (typeof v === 'number') keys.add(k)
      for (const k of keys) row[k] = median(ok.map((s) => s[k]))
      // counts that must add up over the rounds (failed requests, lost messages...)
      for (const k of workload.sum ?? []) row[k] = ok.reduce((total, s) => total + s[k], 0)
      row.errors = ok.map((s) => s.errors).filter(Boolean)
      return row
    })
    results[name] = { title: workload.title, rows }
    const section = table(name, workload, rows)
    sections.push(section)
    process.stdout.write(`\n${section}\n\n`)
  }
  const targets = evaluateTargets(results)
  if (targets.length > 0) {
    const section = targetsTable(targets)
    sections.push(section)
    process.stdout.write(`\n${section}\n\n`)
  }
  const meta = { date: started.toISOString(), duration: DURATION, connections: CONNECTIONS, httpClient: HTTP_CLIENT, rounds: ROUNDS, node: process.version, cpus: require('node:os').cpus().length, loadavgBefore: loadBefore, loadavgAfter: require('node:os').loadavg() }
  fs.mkdirSync(RESULTS, { recursive: true })
  const stamp = started.toISOString().replace(/[:.]/g, '-')
  fs.writeFileSync(path.join(RESULTS, `${stamp}.json`), JSON.stringify({ meta, results, targets }, null, 2) + '\n')
  const md = `# node-asgi benchmark, ${meta.date}\n\n${DURATION} s per measurement, ${CONNECTIONS} connections (${HTTP_CLIENT === 'wrk' ? 'wrk -t1' : 'bench/http_raw_load.js'}), median of ${ROUNDS} rounds, ${meta.cpus} cores, Node ${meta.node}, load average ${meta.loadavgBefore[0].toFixed(2)} before and ${meta.loadavgAfter[0].toFixed(2)} after. Ratios are within this run.\n\n${sections.join('\n\n')}\n`
  fs.writeFileSync(path.join(RESULTS, `${stamp}.md`), md)
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), md)
  process.stderr.write(`results: ${path.relative(process.cwd(), path.join(RESULTS, stamp)) || '.'}.{json,md}\n`)
}

main().catch((err) => { console.error(`bench: ${err.message}`); process.exit(1) })
