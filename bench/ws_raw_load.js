'use strict'
// WebSocket echo load with pre-built frames: C connections, each keeping W 64-byte text messages
// in flight, for S seconds. Prints {rps (messages echoed per second), p50, p99 (ms)} as JSON.
//
// Why not the `ws` client: parsing and framing every message in JS costs the client about as much
// as a server spends on it, so with one connection the client's single thread, not the server,
// set the pace (every server measured within a few percent of the others at ~1 core). This client
// does what wrk does for HTTP: it writes frames built once (masked, as RFC 6455 requires of
// clients; one fixed masking key, which servers do not check) and only walks the echoed frames'
// headers to count them (answering pings), so the servers get the cores.
const net = require('node:net')
const crypto = require('node:crypto')

const PAYLOAD = 64
const EMPTY = Buffer.alloc(0)
const KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d])

/** A masked client frame (payload < 126 bytes): `first` is FIN + opcode. */
function controlFrame (first, payload) {
  const frame = Buffer.alloc(6 + payload.length)
  frame[0] = first
  frame[1] = 0x80 | payload.length
  KEY.copy(frame, 2)
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i] ^ KEY[i & 3]
  return frame
}

function connect (url) {
  const { hostname, port, pathname, search } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname)
    socket.setNoDelay(true)
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.write(`GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
    })
    let head = Buffer.alloc(0)
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      if (!head.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) {
        reject(new Error(`handshake refused: ${head.subarray(0, end).toString('latin1').split('\r\n')[0]}`))
        socket.destroy()
        return
      }
      resolve({ socket, rest: head.subarray(end + 4) })
    }
    socket.on('data', onData)
  })
}

async function main () {
  const [url, connections, window, seconds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])]
  const frame = controlFrame(0x81, Buffer.alloc(PAYLOAD, 'x')) // a text message
  const batches = [] // batches[k]: k frames in one buffer, built on first use
  const framesOf = (k) => batches[k] ?? (batches[k] = Buffer.concat(Array(k).fill(frame)))
  const latencies = []
  let echoed = 0
  let running = true
  const conns = await Promise.all(Array.from({ length: connections }, () => connect(url)))
  const t0 = Date.now()
  for (const { socket, rest } of conns) {
    const sentAt = new Float64Array(window) // ring of send times, in message order
    let head = 0 // next echo's slot
    let tail = 0 // next send's slot
    let pending = rest // bytes of an incomplete frame, kept for the next chunk
    const send = (k) => {
      const now = performance.now()
      for (let i = 0; i < k; i++) { sentAt[tail] = now; tail = (tail + 1) % window }
      socket.write(framesOf(k))
    }
    socket.on('data', (chunk) => {
      const data = pending.length ? Buffer.concat([pending, chunk]) : chunk
      let k = 0
      let at = 0
      for (;;) {
        if (data.length - at < 2) break
        let length = data[at + 1] & 0x7f
        let start = at + 2
        if (length === 126) {
          if (data.length - at < 4) break
          length = data.readUInt16BE(at + 2)
          start = at + 4
        } else if (length === 127) {
          if (data.length - at < 10) break
          length = Number(data.readBigUInt64BE(at + 2))
          start = at + 10
        }
        if (data.length < start + length) break
        const opcode = data[at] & 0x0f
        if (opcode === 1 || opcode === 2) k++
        else if (opcode === 9) socket.write(controlFrame(0x8a, data.subarray(start, start + length))) // pong
        at = start + length
      }
      pending = at === data.length ? EMPTY : data.subarray(at)
      if (k === 0) return
      const now = performance.now()
      for (let i = 0; i < k; i++) {
        if ((echoed++ & 15) === 0) latencies.push(now - sentAt[head])
        head = (head + 1) % window
      }
      if (running) send(k)
    })
    socket.on('error', () => {})
    send(window)
  }
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000))
  running = false
  const elapsed = (Date.now() - t0) / 1000
  for (const { socket } of conns) socket.destroy()
  latencies.sort((a, b) => a - b)
  const pick = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
  process.stdout.write(JSON.stringify({ rps: echoed / elapsed, p50: pick(0.5), p99: pick(0.99) }) + '\n')
}
main().catch((err) => { console.error(err); process.exit(1) })
