'use strict'
// Django Channels (Debian's Django 3.2, channels 4, channels_redis 4) under the CLI's --workers 2: a chat
// group with members on both workers gets every message through a real redis-server, once, in each sender's order.
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const path = require('node:path')
const WebSocket = require('ws')
const { startCli, waitFor } = require('./helpers')
const { startRedis } = require('./redis_support')
const { twoSourcesOnDifferentWorkers } = require('./cluster_support')

const APP_DIR = path.join(__dirname, '..', 'fixtures', 'channels_project')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

let redis
let server
test.before(async () => {
  redis = await startRedis()
  server = await startCli(['asgi:application', '--app-dir', APP_DIR, '--workers', '2', '--host', '127.0.0.1', '--port', '0'],
    { env: { REDIS_URL: redis.url }, track: children, timeoutMs: 60000 })
})
test.after(async () => {
  await server?.stop()
  await redis?.stop()
})

// Two loopback addresses that the primary's sticky hash sends to different workers (slots of 2).
const [SOURCE_A, SOURCE_B] = twoSourcesOnDifferentWorkers()

/** GET `pathname` from `localAddress`: { status, type, body (parsed JSON) }; rejects after 15 s. */
function getJson (pathname, localAddress) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${server.url}${pathname}`, { localAddress, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: JSON.parse(text) }))
      res.on('error', reject)
    })
    req.setTimeout(15000, () => req.destroy(new Error(`GET ${pathname} timed out after 15 s`)))
    req.on('error', reject)
  })
}

/**
 * Opens a WebSocket to `pathname` from `localAddress` and resolves { ws, received, closed } once open:
 * `received` collects every message (parsed JSON), `closed` resolves the close code.
 */
function connect (pathname, localAddress) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}${pathname}`, { localAddress, handshakeTimeout: 15000 })
  const received = []
  ws.on('message', (data) => received.push(JSON.parse(data)))
  const closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, received, closed }))
    ws.once('unexpected-response', (req, res) => reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode })))
    ws.once('error', reject)
  })
}

const N = 25

test('a chat group with members on both workers gets every message once, in each sender\'s order, through Redis', async (t) => {
  // The HTTP view works on both workers, and tells which worker each source address reaches.
  const [viaA, viaB] = await Promise.all([getJson('/pid/', SOURCE_A), getJson('/pid/', SOURCE_B)])
  for (const reply of [viaA, viaB]) {
    assert.equal(reply.status, 200)
    assert.equal(reply.type, 'application/json')
  }
  const workerOf = { [SOURCE_A]: viaA.body.pid, [SOURCE_B]: viaB.body.pid }
  assert.notEqual(workerOf[SOURCE_A], workerOf[SOURCE_B], 'the two source addresses reach two different workers')

  const members = {
    a1: await connect('/ws/chat/lobby/', SOURCE_A),
    a2: await connect('/ws/chat/lobby/', SOURCE_A),
    b1: await connect('/ws/chat/lobby/', SOURCE_B),
    b2: await connect('/ws/chat/lobby/', SOURCE_B)
  }
  const source = { a1: SOURCE_A, a2: SOURCE_A, b1: SOURCE_B, b2: SOURCE_B }
  const outsider = await connect('/ws/chat/elsewhere/', SOURCE_B)
  t.after(() => { for (const client of [...Object.values(members), outsider]) client.ws.terminate() })

  // Every member sends N messages and then an end marker, all at once.
  const began = Date.now()
  for (const [name, { ws }] of Object.entries(members)) {
    for (let i = 0; i < N; i++) ws.send(`${name}-${i}`)
    ws.send(`${name}-end`)
  }
  // Each sender's messages reach a member in the order sent, so once a member has every end marker,
  // nothing sent before them is still on its way.
  const names = Object.keys(members)
  await waitFor(() => Object.values(members).every(({ received }) =>
    names.every((sender) => received.some((m) => m.text === `${sender}-end`))),
  { timeoutMs: 60000, message: 'every member to receive every end marker' })
  const ms = Date.now() - began

  const expected = (sender) => [...Array.from({ length: N }, (_, i) => `${sender}-${i}`), `${sender}-end`]
  for (const [name, { received }] of Object.entries(members)) {
    assert.equal(received.length, names.length * (N + 1), `${name} receives ${names.length} × ${N + 1} messages`)
    for (const sender of names) {
      const fromSender = received.filter((m) => m.text.startsWith(`${sender}-`))
      assert.deepEqual(fromSender.map((m) => m.text), expected(sender), `${name} gets ${sender}'s messages once each, in order`)
      for (const m of fromSender) assert.equal(m.sender_pid, workerOf[source[sender]], `${sender}'s messages are sent by its worker`)
    }
    for (const m of received) assert.equal(m.receiver_pid, workerOf[source[name]], `${name}'s messages arrive through its worker`)
  }
  const crossed = Object.values(members).flatMap(({ received }) => received).filter((m) => m.sender_pid !== m.receiver_pid)
  assert.equal(crossed.length, 2 * 2 * 2 * (N + 1), 'half of the deliveries crossed between the workers')

  // Another room's member got none of it, yet is a live member of its own group.
  assert.deepEqual(outsider.received, [])
  outsider.ws.send('alone')
  await waitFor(() => outsider.received.length > 0, { timeoutMs: 15000, message: 'the outsider\'s own message' })
  assert.deepEqual(outsider.received, [{ text: 'alone', sender_pid: workerOf[SOURCE_B], receiver_pid: workerOf[SOURCE_B] }])

  const deliveries = names.length * names.length * (N + 1)
  t.diagnostic(`${names.length * (N + 1)} messages, ${deliveries} deliveries (${crossed.length} across workers) in ${ms} ms`)
})

test('bad input: a binary frame closes that socket with 1003 and the group carries on; an unknown path is refused', async (t) => {
  const sender = await connect('/ws/chat/binary/', SOURCE_A)
  const peer = await connect('/ws/chat/binary/', SOURCE_B)
  t.after(() => { sender.ws.terminate(); peer.ws.terminate() })
  sender.ws.send(Buffer.from([1, 2, 3]))
  assert.equal(await sender.closed, 1003)
  peer.ws.send('still here')
  await waitFor(() => peer.received.length > 0, { timeoutMs: 15000, message: 'the peer\'s own message' })
  assert.deepEqual(peer.received.map((m) => m.text), ['still here'], 'the binary frame reached nobody')

  // Channels' URLRouter raises for a path it has no route for; before accept, that is a 500 (as uvicorn does).
  await assert.rejects(connect('/ws/nowhere/', SOURCE_A), { status: 500 })
  await waitFor(() => server.stderr().includes("No route found for path 'ws/nowhere/'"),
    { timeoutMs: 15000, message: 'the router\'s error in the log' })
})

test('SIGTERM closes the members on both workers with 1012 and exits 0', async () => {
  const a = await connect('/ws/chat/lobby/', SOURCE_A)
  const b = await connect('/ws/chat/lobby/', SOURCE_B)
  const logged = server.stderr().length
  const exit = await server.stop()
  assert.deepEqual([exit.code, exit.signal, exit.timedOut], [0, null, false], 'graceful exit')
  assert.equal(await a.closed, 1012)
  assert.equal(await b.closed, 1012)
  const shutdownLog = server.stderr().slice(logged)
  assert.doesNotMatch(shutdownLog, /Traceback|ERROR/, 'the consumers leave their group without errors')
  assert.match(shutdownLog, /Stopping parent process/)
})
