'use strict'
// handleRequest() (or handler.fetch()) calls per second with N in flight, in this process (no sockets).
//   node bench/inprocess.js [inFlight=100] [seconds=5] [loop=asyncio] [mode=handleRequest]
// mode: handleRequest | fetch (a new Request per call, body read with arrayBuffer()) | ab (both
// in the same run, alternating 1-second slices; prints { handleRequest, fetch, ratio }).
const path = require('node:path')
const { PythonHandler } = require('..')

const VARIANTS = {
  async handleRequest (handler) {
    const res = await handler.handleRequest({ url: '/' })
    if (res.status !== 200) throw new Error(`status ${res.status}`)
  },
  async fetch (handler) {
    const res = await handler.fetch(new Request('http://127.0.0.1/'))
    if (res.status !== 200) throw new Error(`status ${res.status}`)
    await res.arrayBuffer()
  }
}

/** Runs `call` with `inFlight` concurrent workers for `seconds`; returns { calls, elapsed, latencies }. */
async function measure (handler, call, inFlight, seconds) {
  let calls = 0
  const deadline = Date.now() + seconds * 1000
  const latencies = []
  async function worker () {
    while (Date.now() < deadline) {
      const t0 = process.hrtime.bigint()
      await call(handler)
      if ((calls++ & 15) === 0) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
  }
  const t0 = Date.now()
  await Promise.all(Array.from({ length: inFlight }, worker))
  return { calls, elapsed: (Date.now() - t0) / 1000, latencies }
}

function summary ({ calls, elapsed, latencies }, cpuSeconds) {
  latencies.sort((a, b) => a - b)
  const pick = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
  return { rps: calls / elapsed, p50: pick(0.5), p99: pick(0.99), cpu: cpuSeconds / elapsed, rss: process.resourceUsage().maxRSS * 1024 }
}

async function main () {
  const inFlight = Number(process.argv[2] || 100)
  const seconds = Number(process.argv[3] || 5)
  const loop = process.argv[4] || 'asyncio'
  const mode = process.argv[5] || 'handleRequest'
  if (mode !== 'ab' && !(mode in VARIANTS)) throw new Error(`mode must be handleRequest, fetch or ab, got ${mode}`)
  const handler = new PythonHandler({ app: 'bench_apps:hello', appDir: path.join(__dirname, 'apps'), loop })
  await handler.start()
  let result
  if (mode === 'ab') {
    // Alternating slices in one process, so that both see the same machine load.
    const totals = { handleRequest: { calls: 0, elapsed: 0, latencies: [], cpu: 0 }, fetch: { calls: 0, elapsed: 0, latencies: [], cpu: 0 } }
    await measure(handler, VARIANTS.handleRequest, inFlight, 0.5) // warm-up
    await measure(handler, VARIANTS.fetch, inFlight, 0.5)
    for (let slice = 0; slice < Math.max(2, Math.round(seconds)); slice++) {
      const name = slice % 2 ? 'fetch' : 'handleRequest'
      const usage0 = process.cpuUsage()
      const m = await measure(handler, VARIANTS[name], inFlight, 1)
      const cpu = process.cpuUsage(usage0)
      const t = totals[name]
      t.calls += m.calls
      t.elapsed += m.elapsed
      t.latencies.push(...m.latencies)
      t.cpu += (cpu.user + cpu.system) / 1e6
    }
    const a = summary(totals.handleRequest, totals.handleRequest.cpu)
    const b = summary(totals.fetch, totals.fetch.cpu)
    result = { handleRequest: a, fetch: b, ratio: b.rps / a.rps }
  } else {
    const usage0 = process.cpuUsage()
    const m = await measure(handler, VARIANTS[mode], inFlight, seconds)
    const cpu = process.cpuUsage(usage0)
    result = summary(m, (cpu.user + cpu.system) / 1e6)
  }
  await handler.close()
  process.stdout.write(JSON.stringify(result) + '\n')
}
main().catch((err) => { console.error(err); process.exit(1) })
