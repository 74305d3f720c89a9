'use strict'
// handleRequest() calls per second with N in flight, in this process (no sockets).
const path = require('node:path')
const { PythonHandler } = require('..')

async function main () {
  const inFlight = Number(process.argv[2] || 100)
  const seconds = Number(process.argv[3] || 5)
  const loop = process.argv[4] || 'asyncio'
  const handler = new PythonHandler({ app: 'bench_apps:hello', appDir: path.join(__dirname, 'apps'), loop })
  await handler.start()
  const usage0 = process.cpuUsage()
  let calls = 0
  const deadline = Date.now() + seconds * 1000
  const latencies = []
  async function worker () {
    while (Date.now() < deadline) {
      const t0 = process.hrtime.bigint()
      const res = await handler.handleRequest({ url: '/' })
      if (res.status !== 200) throw new Error(`status ${res.status}`)
      if ((calls++ & 15) === 0) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
  }
  const t0 = Date.now()
  await Promise.all(Array.from({ length: inFlight }, worker))
  const elapsed = (Date.now() - t0) / 1000
  const cpu = process.cpuUsage(usage0)
  latencies.sort((a, b) => a - b)
  const pick = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
  await handler.close()
  process.stdout.write(JSON.stringify({
    rps: calls / elapsed,
    p50: pick(0.5),
    p99: pick(0.99),
    cpu: (cpu.user + cpu.system) / 1e6 / elapsed,
    rss: process.resourceUsage().maxRSS * 1024
  }) + '\n')
}
main().catch((err) => { console.error(err); process.exit(1) })
