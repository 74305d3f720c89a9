'use strict'
// socket.io broadcast load for `npm run bench -- --only sio2`: C socket.io-client clients (default
// transports: long-polling, then the WebSocket upgrade) connect to the socketio-hub example, spread
// over the given loopback source addresses (the primary of `--workers N` routes by client address,
// so each address lands on one worker); two senders, one on each of the first two addresses,
// broadcast B `tts_notification`s (to every client) with up to W each that have not come back to
// the sender yet (so the hub's queues stay bounded and the latency is not queueing of our own
// making), and every client counts what it receives. Prints JSON: deliveries per second, lost and doubled deliveries, the delivery
// latency (p50, p99 ms; sender and receivers share this process's clock) and how many hub
// processes served the clients. Run in its own process so that the clients' JS does not share the
// bench's thread.
//
//   node bench/sio_broadcast.js URL CLIENTS BROADCASTS WARMUP_BROADCASTS SOURCES [WINDOW]
//   (SOURCES: comma list of local addresses, e.g. 127.0.0.1,127.0.0.2; JWT_SECRET from the environment)
const crypto = require('node:crypto')
const http = require('node:http')
const { io } = require('socket.io-client')

const CONNECT_BATCH = 10 // connects in flight at once
const TIMEOUT_MS = 30000 // to connect, to upgrade, for an ack
const STALL_MS = 10000 // no new delivery for this long: what is missing is lost

function fail (message) {
  console.error(`sio_broadcast: ${message}`)
  process.exit(2)
}

const [url, clientsText, broadcastsText, warmupText, sourcesText, windowText = '16'] = process.argv.slice(2)
const count = (text, name, min) => {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min) fail(`${name} must be an integer >= ${min}, got '${text}'`)
  return n
}
if (!url || !sourcesText) fail('usage: node bench/sio_broadcast.js URL CLIENTS BROADCASTS WARMUP_BROADCASTS SOURCES [WINDOW]')
const CLIENTS = count(clientsText, 'CLIENTS', 2)
const BROADCASTS = count(broadcastsText, 'BROADCASTS', 1)
const WARMUP = count(warmupText, 'WARMUP_BROADCASTS', 0)
const WINDOW = count(windowText, 'WINDOW', 1)
const SOURCES = sourcesText.split(',')
const SECRET = process.env.JWT_SECRET
if (!SECRET) fail('JWT_SECRET is not set (the secret the hub signs tokens with)')

/** An HS256 JWT for user `sub`, valid for an hour. */
function token (sub) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}`
  return `${unsigned}.${crypto.createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`
}

function withTimeout (promise, what) {
  let timer
  const timeout = new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing within ${TIMEOUT_MS} ms`)), TIMEOUT_MS) })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Connects client `i` from its source address and resolves once it is on WebSocket. */
async function connect (i) {
  const socket = io(url, {
    auth: { token: token(`bench-${i}`) },
    agent: new http.Agent({ localAddress: SOURCES[i % SOURCES.length] }),
    reconnection: false,
    forceNew: true,
    timeout: TIMEOUT_MS
  })
  await withTimeout(new Promise((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', (err) => reject(new Error(`client ${i} connect_error: ${err.message}`)))
  }), `client ${i} connect`)
  const engine = socket.io.engine
  if (engine.transport.name !== 'websocket') await withTimeout(new Promise((resolve) => engine.once('upgrade', resolve)), `client ${i} upgrade`)
  return socket
}

/** Emits `event` and resolves the hub's ack, which must be { ok: true }. */
async function ask (socket, event, payload) {
  const ack = await socket.timeout(TIMEOUT_MS).emitWithAck(event, payload)
  if (ack?.ok !== true) throw new Error(`${event} refused: ${JSON.stringify(ack)}`)
}

/** The pid of the hub process serving `socket` (its system_status). */
async function pidOf (socket) {
  const status = new Promise((resolve) => socket.once('system_status', (s) => resolve(s.pid)))
  await ask(socket, 'system_status', {})
  return withTimeout(status, 'system_status')
}

const percentile = (sorted, p) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p / 100))]

async function main () {
  const sockets = []
  try {
    for (let i = 0; i < CLIENTS; i += CONNECT_BATCH) {
      const batch = Array.from({ length: Math.min(CONNECT_BATCH, CLIENTS - i) }, (_, k) => connect(i + k))
      sockets.push(...await Promise.all(batch))
    }
    const pids = []
    for (const socket of sockets) pids.push(await pidOf(socket))

    // Each client's receipts: `phase:seq:sentAt` → how many times it arrived.
    let deliveries = 0
    let doubled = 0
    let lastDelivery = 0
    const latencies = []
    const seen = sockets.map(() => new Set())
    const echoes = new Map() // `${client}:${key}` → resolve: a sender waiting for its own broadcast
    sockets.forEach((socket, i) => socket.on('tts_notification', (payload) => {
      const [phase, seq, sentAt] = String(payload.text).split(':')
      const key = `${phase}:${seq}`
      const now = Date.now()
      lastDelivery = now
      if (seen[i].has(key)) {
        doubled++
        return
      }
      seen[i].add(key)
      echoes.get(`${i}:${key}`)?.()
      if (phase === 'm') {
        deliveries++
        latencies.push(now - Number(sentAt))
      }
    }))

    // Two senders, clients 0 and 1 (the first two source addresses: two workers), each with up to
    // WINDOW broadcasts that have not come back to it. One that never does is counted as lost.
    const broadcast = async (phase, total) => {
      let next = 0
      const sendLoop = async (i) => {
        while (next < total) {
          const seq = next++
          const echo = `${i}:${phase}:${seq}`
          const back = new Promise((resolve) => echoes.set(echo, resolve))
          await ask(sockets[i], 'tts_notification', { text: `${phase}:${seq}:${Date.now()}` })
          await withTimeout(back, `broadcast ${phase}:${seq} back at its sender`).catch(() => {})
          echoes.delete(echo)
        }
      }
      await Promise.all([0, 1].flatMap((i) => Array.from({ length: WINDOW }, () => sendLoop(i))))
    }
    /** Resolves once every client has `total` distinct messages of `phase`, or nothing arrived for STALL_MS. */
    const delivered = (phase, total) => new Promise((resolve) => {
      const check = () => {
        const have = seen.reduce((sum, set) => sum + [...set].filter((k) => k.startsWith(phase + ':')).length, 0)
        if (have >= total * sockets.length || Date.now() - lastDelivery > STALL_MS) return resolve()
        setTimeout(check, 50)
      }
      check()
    })
    if (WARMUP > 0) {
      await broadcast('w', WARMUP)
      lastDelivery = Date.now()
      await delivered('w', WARMUP)
    }
    const t0 = Date.now()
    lastDelivery = t0
    await broadcast('m', BROADCASTS)
    const sentSeconds = (Date.now() - t0) / 1000
    await new Promise((resolve) => {
      const check = () => {
        if (deliveries >= BROADCASTS * sockets.length || Date.now() - lastDelivery > STALL_MS) return resolve()
        setTimeout(check, 20)
      }
      check()
    })
    const seconds = (lastDelivery - t0) / 1000
    // doubles would arrive right behind the originals: a moment more to see them
    await new Promise((resolve) => setTimeout(resolve, 500))
    latencies.sort((a, b) => a - b)
    process.stdout.write(JSON.stringify({
      rps: deliveries / seconds,
      broadcastsPerSecond: BROADCASTS / sentSeconds,
      clients: sockets.length,
      broadcasts: BROADCASTS,
      expected: BROADCASTS * sockets.length,
      deliveries,
      lost: BROADCASTS * sockets.length - deliveries,
      doubled,
      workers: new Set(pids).size,
      seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99)
    }) + '\n')
  } finally {
    for (const socket of sockets) socket.close()
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(`sio_broadcast: ${err.message}`)
  process.exit(1)
})
