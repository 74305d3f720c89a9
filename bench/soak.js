#!/usr/bin/env node
'use strict'
// `npm run soak`: a bounded soak of the node-asgi CLI on 127.0.0.1 — HTTP load from wrk (50
// connections over raw ASGI and FastAPI routes) and WebSocket echo clients at the same time —
// sampling the server's RSS and open file descriptors. Fails (exit 1) on any error, on RSS that
// keeps growing, or on descriptor growth. Not part of `npm test`.
//
//   node bench/soak.js [--minutes 5] [--connections 50] [--ws-clients 20]
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { parseArgs } = require('node:util')
const { freePort, waitForPort } = require('./ports')
const WebSocket = require('ws')

const ROOT = path.resolve(__dirname, '..')
const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    'ws-clients': { type: 'string', default: '20' }
  }
})
const SECONDS = Math.max(10, Number(flags.minutes) * 60)
const SAMPLE_MS = 5000

function sample (pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length }
}

function wrk (port, urlPath, seconds, connections) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, `http://127.0.0.1:${port}${urlPath}`])
    let out = ''
    child.stdout.on('data', (d) => { out += d })
    child.on('error', reject)
    child.on('exit', () => {
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] || 0)
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] || 0)
      const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0)
      resolve({ requests, errors, out })
    })
  })
}

async function wsClient (port, deadline, stats) {
  while (Date.now() < deadline) {
    await new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`)
      let sent = 0
      const next = () => {
        if (Date.now() >= deadline || sent >= 200) { ws.close(1000); return }
        ws.send(`message ${sent++}`)
      }
      ws.on('open', next)
      ws.on('message', (data) => {
        if (String(data) !== `message ${sent - 1}`) stats.errors++
        stats.messages++
        next()
      })
      ws.on('error', () => { stats.errors++ })
      ws.on('close', (code) => { if (code !== 1000 && code !== 1005) stats.errors++; stats.connections++; resolve() })
    })
  }
}

async function main () {
  const port = await freePort()
  const server = spawn(process.execPath, [path.join(ROOT, 'bin/node-asgi.js'), 'soak_app:app', '--app-dir', path.join(__dirname, 'apps'),
    '--port', String(port), '--no-access-log', '--log-level', 'warning'], { stdio: ['ignore', 'inherit', 'inherit'] })
  await waitForPort(port, server)
  const deadline = Date.now() + SECONDS * 1000
  const samples = [sample(server.pid)]
  const timer = setInterval(() => samples.push(sample(server.pid)), SAMPLE_MS)
  const wsStats = { messages: 0, connections: 0, errors: 0 }
  const half = Math.floor(Number(flags.connections) / 2)
  const [raw, fastapi] = await Promise.all([
    wrk(port, '/hello', SECONDS, half),
    wrk(port, '/items/7?q=soak', SECONDS, Number(flags.connections) - half),
    ...Array.from({ length: Number(flags['ws-clients']) }, () => wsClient(port, deadline, wsStats))
  ])
  clearInterval(timer)
  samples.push(sample(server.pid))
  server.kill('SIGTERM')
  const exitCode = await new Promise((resolve) => server.on('exit', resolve))

  // Growth: compare the mean of the second quarter with the mean of the last quarter (warm-up excluded).
  const q = Math.max(1, Math.floor(samples.length / 4))
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
  const early = mean(samples.slice(q, 2 * q).map((s) => s.rss))
  const late = mean(samples.slice(-q).map((s) => s.rss))
  const rssGrowth = (late - early) / early
  const fdGrowth = samples[samples.length - 1].fds - samples[1 < samples.length ? 1 : 0].fds
  const errors = raw.errors + fastapi.errors + wsStats.errors
  const report = {
    seconds: SECONDS,
    httpRequests: raw.requests + fastapi.requests,
    wsMessages: wsStats.messages,
    wsConnections: wsStats.connections,
    errors,
    rssMiB: samples.map((s) => +(s.rss / 1048576).toFixed(1)),
    rssGrowth: +(rssGrowth * 100).toFixed(1) + '%',
    fds: samples.map((s) => s.fds),
    serverExitCode: exitCode
  }
  console.log(JSON.stringify(report, null, 2))
  const failed = errors > 0 || rssGrowth > 0.1 || fdGrowth > 5 || exitCode !== 0
  console.log(failed ? 'soak: FAILED' : 'soak: passed (0 errors, flat RSS, no descriptor growth)')
  process.exit(failed ? 1 : 0)
}

main().catch((err) => { console.error(err); process.exit(1) })
