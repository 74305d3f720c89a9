'use strict'
// WebSocket echo load: C connections, each keeping W messages in flight, for S seconds.
// Prints {rps (messages echoed per second), p50, p99 (ms)} as JSON.
const WebSocket = require('ws')

async function main () {
  const [url, connections, window, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])]
  const payload = Buffer.alloc(64, 'x').toString()
  let echoed = 0
  const latencies = []
  let running = true
  const sockets = await Promise.all(Array.from({ length: connections }, () => new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    ws.on('open', () => resolve(ws))
    ws.on('error', reject)
  })))
  const t0 = Date.now()
  for (const ws of sockets) {
    const sent = []
    ws.on('message', () => {
      const start = sent.shift()
      if ((echoed++ & 15) === 0) latencies.push(Number(process.hrtime.bigint() - start) / 1e6)
      if (running) { sent.push(process.hrtime.bigint()); ws.send(payload) }
    })
    for (let i = 0; i < window; i++) { sent.push(process.hrtime.bigint()); ws.send(payload) }
  }
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  running = false
  const elapsed = (Date.now() - t0) / 1000
  for (const ws of sockets) ws.terminate()
  latencies.sort((a, b) => a - b)
  const pick = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
  process.stdout.write(JSON.stringify({ rps: echoed / elapsed, p50: pick(0.5), p99: pick(0.99) }) + '\n')
}
main().catch((err) => { console.error(err); process.exit(1) })
