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
//   npm run bench -- [--only hello,fastapi,ws1,ws10,idle,floor,inprocess1,inprocess100] [--duration 10]
//                    [--connections 50] [--rounds 3] [--warmup 2] [--ws-client frames|ws]
//                    [--results bench/results]
const { spawn, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { parseArgs } = require('node:util')
const { freePort, waitForPort } = require('./ports')

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
const RESULTS = path.resolve(flags.results)
// WebSocket load: pre-built frames (ws_raw_load.js, the default: cheap enough that the servers, not
// the client, set the pace) or the `ws` client library (ws_load.js: one JS thread parsing every
// message, which caps one connection at about what one server core does).
const WS_CLIENTS = { frames: 'ws_raw_load.js', ws: 'ws_load.js' }
const WS_CLIENT = WS_CLIENTS[flags['ws-client']]
if (WS_CLIENT === undefined) usageError(`--ws-client must be one of ${Object.keys(WS_CLIENTS).join(', ')}, got '${flags['ws-client']}'`)

function nodeAsgi (app, loop = 'asyncio') {
  return (port) => [process.execPath, [path.join(ROOT, 'bin/node-asgi.js'), app, '--app-dir', APPS, '--port', String(port), '--no-access-log', '--log-level', 'warning', '--loop', loop]]
}
function uvicorn (app, python = () => PYTHON) {
  return (port) => [python(), ['-m', 'uvicorn', app, '--app-dir', APPS, '--port', String(port), '--loop', 'uvloop', '--http', 'httptools', '--ws', 'websockets', '--no-access-log', '--log-level', 'warning']]
}
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
function platformatic (app) {
  let modulePath
  try {
    modulePath = require.resolve('@platformatic/python-node', { paths: [ROOT, process.cwd()] })
  } catch {
    return null
  }
  return (port) => [process.execPath, [path.join(__dirname, 'platformatic_server.js'), app, String(port), modulePath]]
}

// Each workload: the servers it compares and how load is applied.
const WORKLOADS = {
  hello: {
    title: 'raw ASGI hello (HTTP/1.1 keep-alive)',
    load: 'wrk',
    url: '/',
    servers: {
      'node:http': (port) => [process.execPath, [path.join(__dirname, 'node_hello.js'), String(port)]],
      'node-asgi': nodeAsgi('bench_apps:hello'),
      'node-asgi uvloop': nodeAsgi('bench_apps:hello', 'uvloop'),
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
      'node-asgi': nodeAsgi('bench_apps:fastapi_app'),
      'node-asgi uvloop': nodeAsgi('bench_apps:fastapi_app', 'uvloop'),
      uvicorn: uvicorn('bench_apps:fastapi_app'),
      [`uvicorn on ${SHARED_LIB}`]: uvicorn('bench_apps:fastapi_app', pythonOnSharedLib),
      '@platformatic/python-node': platformatic('bench_apps:fastapi_app')
    }
  },
  ws1: {
    title: 'WebSocket echo, 1 connection, 64 messages in flight (messages/s)',
    load: 'ws',
    ws: { connections: 1, window: 64 },
    servers: { 'node-asgi': nodeAsgi('bench_apps:ws_echo'), 'node-asgi uvloop': nodeAsgi('bench_apps:ws_echo', 'uvloop'), uvicorn: uvicorn('bench_apps:ws_echo') }
  },
  ws10: {
    title: 'WebSocket echo, 10 connections, 64 messages in flight each (messages/s)',
    load: 'ws',
    ws: { connections: 10, window: 64 },
    servers: { 'node-asgi': nodeAsgi('bench_apps:ws_echo'), 'node-asgi uvloop': nodeAsgi('bench_apps:ws_echo', 'uvloop'), uvicorn: uvicorn('bench_apps:ws_echo') }
  },
  idle: {
    title: 'idle after a burst of hello requests: CPU and wakeups per second with no load',
    load: 'idle',
    url: '/',
    columns: 'idle',
    servers: { 'node-asgi': nodeAsgi('bench_apps:hello'), 'node-asgi uvloop': nodeAsgi('bench_apps:hello', 'uvloop'), uvicorn: uvicorn('bench_apps:hello') }
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
  }
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

function run (cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
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
  return { rps, p50: pct(50), p99: pct(99), errors: errors || null }
}

async function measureServer (workload, command) {
  const port = await freePort()
  const [cmd, args] = command(port)
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: ROOT })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  try {
    await waitForPort(port, child)
    const url = `http://127.0.0.1:${port}${workload.url || '/'}`
    const wsUrl = `ws://127.0.0.1:${port}/`
    const wrk = (seconds) => run('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', url]).then(parseWrk)
    const loads = {
      wrk,
      ws: (seconds) => run(process.execPath, [path.join(__dirname, WS_CLIENT), wsUrl, String(workload.ws.connections), String(workload.ws.window), String(seconds)]).then(JSON.parse),
      // after serving a burst (the warm-up), nothing: what the server costs while idle
      idle: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000, { rps: NaN, p50: NaN, p99: NaN }))
    }
    const load = loads[workload.load]
    if (WARMUP > 0) await (workload.load === 'idle' ? wrk(WARMUP).then(() => load(1)) : load(WARMUP))
    const before = procStats(child.pid)
    const t0 = Date.now()
    const result = await load(DURATION)
    const elapsed = (Date.now() - t0) / 1000
    const after = procStats(child.pid)
    return { ...result, cpu: (after.cpu - before.cpu) / elapsed, rss: after.hwm, wakeups: (after.wakeups - before.wakeups) / elapsed }
  } catch (err) {
    const reason = stderr.trim().split('\n').pop()
    throw new Error(reason ? `${err.message}: ${reason}` : err.message)
  } finally {
    child.kill('SIGKILL')
    await new Promise((resolve) => child.exitCode !== null ? resolve() : child.once('exit', resolve))
  }
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

function table (name, workload, rows) {
  if (workload.columns === 'idle') return idleTable(name, workload, rows)
  const refs = (workload.ratios || ['uvicorn', 'node:http']).map((server) => [server, rows.find((r) => r.server === server)?.rps])
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

async function main () {
  const names = flags.only ? flags.only.split(',') : Object.keys(WORKLOADS)
  for (const n of names) if (!WORKLOADS[n]) usageError(`--only: unknown workload '${n}' (choose from ${Object.keys(WORKLOADS).join(', ')})`)
  try { execFileSync('wrk', ['--version'], { stdio: 'ignore' }) } catch (err) {
    if (err.code === 'ENOENT' && names.some((n) => ['wrk', 'idle'].includes(WORKLOADS[n].load))) throw new Error('wrk is not installed (apt-get install wrk, or run `bash scripts/setup.sh --bench`)')
  }
  const started = new Date()
  const results = {}
  const sections = []
  for (const name of names) {
    const workload = WORKLOADS[name]
    const servers = Object.entries(workload.servers)
    const samples = Object.fromEntries(servers.map(([s]) => [s, []]))
    for (let round = 0; round < ROUNDS; round++) {
      // rotate the order each round so that drift does not always favour the same server
      const order = servers.map((_, i) => servers[(i + round) % servers.length])
      for (const [server, command] of order) {
        if (command === null) continue
        process.stderr.write(`${name} round ${round + 1}/${ROUNDS}: ${server} ... `)
        try {
          const measure = { inprocess: measureInProcess, floor: measureFloor }[workload.load] ?? measureServer
          const r = await measure(workload, command)
          samples[server].push(r)
          process.stderr.write(workload.load === 'idle' ? `${fmt(r.cpu, 4)} cores\n` : `${fmt(r.rps)}/s\n`)
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
      return {
        server,
        rounds: ok.length,
        rps: median(ok.map((s) => s.rps)),
        p50: median(ok.map((s) => s.p50)),
        p99: median(ok.map((s) => s.p99)),
        rss: median(ok.map((s) => s.rss)),
        cpu: median(ok.map((s) => s.cpu)),
        wakeups: median(ok.map((s) => s.wakeups)),
        errors: ok.map((s) => s.errors).filter(Boolean)
      }
    })
    results[name] = { title: workload.title, rows }
    const section = table(name, workload, rows)
    sections.push(section)
    process.stdout.write(`\n${section}\n\n`)
  }
  const meta = { date: started.toISOString(), duration: DURATION, connections: CONNECTIONS, rounds: ROUNDS, node: process.version, cpus: require('node:os').cpus().length }
  fs.mkdirSync(RESULTS, { recursive: true })
  const stamp = started.toISOString().replace(/[:.]/g, '-')
  fs.writeFileSync(path.join(RESULTS, `${stamp}.json`), JSON.stringify({ meta, results }, null, 2) + '\n')
  const md = `# node-asgi benchmark, ${meta.date}\n\n${DURATION} s per measurement, ${CONNECTIONS} connections (wrk -t1), median of ${ROUNDS} rounds, ${meta.cpus} cores, Node ${meta.node}. Ratios are within this run.\n\n${sections.join('\n\n')}\n`
  fs.writeFileSync(path.join(RESULTS, `${stamp}.md`), md)
  fs.writeFileSync(path.join(RESULTS, 'latest.md'), md)
  process.stderr.write(`results: ${path.relative(process.cwd(), path.join(RESULTS, stamp)) || '.'}.{json,md}\n`)
}

main().catch((err) => { console.error(`bench: ${err.message}`); process.exit(1) })
