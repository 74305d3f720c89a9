#!/usr/bin/env node
'use strict'
// Where a node-asgi server spends its CPU, per thread: serves an app (bench/serve.js, on the
// node:http path or the native server), loads it with wrk, and prints each busy thread's CPU µs
// and sleeps per request (from /proc/PID/task/*), so that a change can be judged by the JS
// thread's and the loop thread's cost rather than by requests/s alone, which a noisy 2-core
// machine blurs. A/B: run it against two checkouts in turn (--root: the checkout whose lib/ is
// served; the serving script is this checkout's). On the native server the "JS" thread is Node's
// main thread running the C++ server on libuv: it runs no JS per request.
//
//   node bench/threads.js [--root DIR] [--app bench_apps:hello] [--url /] [--loop asyncio]
//                         [--http node|native] [--duration 6] [--connections 50] [--rounds 1]
//                         [-- extra wrk args]
const { spawn, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { parseArgs } = require('node:util')
const { freePort, waitForPort } = require('./ports')

const { values: flags, positionals: wrkExtra } = parseArgs({
  allowPositionals: true,
  options: {
    root: { type: 'string', default: path.resolve(__dirname, '..') },
    app: { type: 'string', default: 'bench_apps:hello' },
    url: { type: 'string', default: '/' },
    loop: { type: 'string', default: 'asyncio' },
    http: { type: 'string', default: 'node' },
    duration: { type: 'string', default: '6' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '1' }
  }
})
const CLK_TCK = 100
if (!['node', 'native'].includes(flags.http)) {
  console.error(`threads: --http must be node or native, got '${flags.http}'`)
  process.exit(2)
}

function threads (pid) {
  const out = new Map()
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
      out.set(tid, {
        name: /Name:\s+(.*)/.exec(status)[1],
        cpu: (Number(fields[11]) + Number(fields[12])) / CLK_TCK,
        sleeps: Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)[1])
      })
    } catch {} // the thread ended
  }
  return out
}

function wrk (url, seconds) {
  const out = execFileSync('wrk', ['-t1', `-c${flags.connections}`, `-d${seconds}s`, ...wrkExtra, url], { encoding: 'utf8' })
  return { requests: Number(/(\d+) requests in/.exec(out)[1]), rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]) }
}

async function round () {
  const port = await freePort()
  const root = path.resolve(flags.root)
  const child = spawn(process.execPath, [path.join(__dirname, 'serve.js'), flags.app, String(port), '--root', root,
    '--app-dir', path.join(root, 'bench/apps'), '--loop', flags.loop, '--http', flags.http], { stdio: 'inherit' })
  try {
    await waitForPort(port, child)
    const url = `http://127.0.0.1:${port}${flags.url}`
    wrk(url, 2) // warm-up
    const before = threads(child.pid)
    const { requests, rps } = wrk(url, Number(flags.duration))
    const after = threads(child.pid)
    const busy = []
    for (const [tid, a] of after) {
      const b = before.get(tid) ?? { cpu: 0, sleeps: 0 }
      const us = (a.cpu - b.cpu) * 1e6 / requests
      if (us >= 0.5) busy.push(`${tid === String(child.pid) ? (flags.http === 'native' ? 'main (native server)' : 'JS') : a.name} ${us.toFixed(2)} µs, ${((a.sleeps - b.sleeps) / requests).toFixed(3)} sleeps`)
    }
    console.log(`${path.basename(root)} (${flags.http === 'native' ? 'native' : 'node:http path'}, ${flags.loop}): ${Math.round(rps)} req/s | per request: ${busy.join(' | ')}`)
  } finally {
    child.kill('SIGKILL')
  }
}

async function main () {
  for (let i = 0; i < Number(flags.rounds); i++) await round()
}
main().catch((err) => { console.error(err.message); process.exit(1) })
