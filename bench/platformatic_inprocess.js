'use strict'
// handleRequest() calls per second with N in flight, in this process, through a module with
// @platformatic/python-node's API (node-asgi/platformatic or the package itself) on the raw ASGI
// hello (bench/apps/platformatic_hello.py). Prints the JSON line bench/inprocess.js prints.
//   node bench/platformatic_inprocess.js MODULE_PATH [IN_FLIGHT] [SECONDS]
const path = require('node:path')

async function main () {
  const [modulePath, inFlight = 100, seconds = 5] = [process.argv[2], Number(process.argv[3] || 100), Number(process.argv[4] || 5)]
  let Python, Request
  try {
    ({ Python, Request } = require(modulePath.startsWith('.') ? path.resolve(modulePath) : modulePath))
  } catch (err) {
    // e.g. the incumbent's prebuilt binary links libpython3.13, which Debian 12 does not have
    throw new Error(`cannot load ${modulePath}: ${(err.cause || err).message}`)
  }
  const python = new Python({ docroot: path.join(__dirname, 'apps'), appTarget: 'platformatic_hello:app' })
  const first = await python.handleRequest(new Request({ method: 'GET', url: '/' })) // loads the app
  if (first.status !== 200 || first.body.toString() !== 'Hello, world!') throw new Error(`unexpected answer: ${first.status} ${first.body}`)
  const usage0 = process.cpuUsage()
  let calls = 0
  const deadline = Date.now() + seconds * 1000
  const latencies = []
  async function worker () {
    while (Date.now() < deadline) {
      const t0 = process.hrtime.bigint()
      const res = await python.handleRequest(new Request({ method: 'GET', url: '/' }))
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
  process.stdout.write(JSON.stringify({
    rps: calls / elapsed,
    p50: pick(0.5),
    p99: pick(0.99),
    cpu: (cpu.user + cpu.system) / 1e6 / elapsed,
    rss: process.resourceUsage().maxRSS * 1024
  }) + '\n')
  process.exit(0) // the incumbent has no close(); its threads would keep the process up
}
main().catch((err) => { console.error(err.message); process.exit(1) })
