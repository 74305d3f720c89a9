'use strict'
// Tunnels: 'open' gives an id, 'join' pairs a second client, and 'data' payloads reach the other end
// byte for byte and in order, both ways (1 MiB frames, empty ones, bursts); unknown ids and full
// tunnels are answered with an 'error' that leaves the connection usable; tunnels do not mix.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startTunnelServer, health, TunnelClient, pair, patterned, TOKENS, MiB } = require('./tunnel_support')

const children = new Set()
const clients = new Set()
let server

before(async () => { server = await startTunnelServer({ track: children }) })
after(async () => {
  for (const ws of clients) ws.terminate()
  await server?.stop()
  for (const child of children) child.kill('SIGKILL')
})

const connect = () => TunnelClient.connect(server, { clients })
async function authenticated (token = TOKENS[0]) {
  const client = await connect()
  assert.deepEqual(await client.auth(token), { type: 'authenticated' })
  return client
}

test("'open' answers 'opened' with an id; 'join' with it pairs both ends", { timeout: 20000 }, async () => {
  const a = await authenticated()
  const tunnel = await a.open()
  assert.match(tunnel, /^[A-Za-z0-9_-]{16}$/)
  assert.deepEqual((await health(server)).tunnels, { waiting: 1, paired: 0 })
  const b = await authenticated(TOKENS[1])
  assert.deepEqual(await b.join(tunnel), { type: 'paired', tunnel })
  assert.deepEqual(await a.next(), { type: 'paired', tunnel })
  assert.deepEqual((await health(server)).tunnels, { waiting: 0, paired: 1 })
  a.ws.close()
  await Promise.all([a.closed, b.closed])
})

test('data is forwarded both ways with the exact bytes, from empty to 1 MiB', { timeout: 30000 }, async () => {
  const { a, b } = await pair(server, { clients })
  const sizes = [0, 1, 255, 65536, MiB - 1, MiB]
  for (const [i, size] of sizes.entries()) {
    const there = patterned(i + 1, size)
    await a.sendData(there)
    assert.ok((await b.nextData()).equals(there), `a → b, ${size} bytes`)
    const back = patterned(i + 100, size)
    await b.sendData(back)
    assert.ok((await a.nextData()).equals(back), `b → a, ${size} bytes`)
  }
  assert.equal(a.closeInfo, null)
  assert.equal(b.closeInfo, null)
  a.ws.close()
  await b.closed
})

test('a burst of frames in both directions at once arrives complete and in order', { timeout: 60000 }, async () => {
  const { a, b } = await pair(server, { clients })
  const count = 300
  const size = (seq) => (seq * 7919) % 20000 // 0 .. 20 KB, varied
  const frame = (side, seq) => {
    const payload = patterned(side * 100000 + seq, size(seq) + 4)
    payload.writeUInt32BE(seq, 0)
    return payload
  }
  const receive = async (client, side) => {
    for (let seq = 0; seq < count; seq++) {
      const payload = await client.nextData()
      assert.equal(payload.readUInt32BE(0), seq, `side ${side}: frame ${seq} in order`)
      assert.ok(payload.equals(frame(side, seq)), `side ${side}: frame ${seq} intact`)
    }
  }
  const receiving = Promise.all([receive(b, 1), receive(a, 2)])
  const sends = []
  for (let seq = 0; seq < count; seq++) {
    sends.push(a.sendData(frame(1, seq)), b.sendData(frame(2, seq))) // not awaited: a burst
  }
  await Promise.all(sends)
  await receiving
  assert.equal(a.queue.length + b.queue.length, 0, 'nothing extra arrived')
  a.ws.close()
  await b.closed
})

test('tunnels are independent: data never crosses into another tunnel', { timeout: 20000 }, async () => {
  const one = await pair(server, { clients })
  const two = await pair(server, { clients })
  assert.notEqual(one.tunnel, two.tunnel)
  await Promise.all([one.a.sendData(Buffer.from('for one')), two.a.sendData(Buffer.from('for two'))])
  assert.equal((await one.b.nextData()).toString(), 'for one')
  assert.equal((await two.b.nextData()).toString(), 'for two')
  await two.b.sendData(Buffer.from('two back'))
  assert.equal((await two.a.nextData()).toString(), 'two back')
  assert.equal(one.a.queue.length + one.b.queue.length + two.a.queue.length, 0)
  for (const client of [one.a, two.a]) client.ws.close()
  await Promise.all([one.b.closed, two.b.closed])
})

test("joining an unknown tunnel id answers 'unknown_tunnel' and the connection stays usable", { timeout: 20000 }, async () => {
  const client = await authenticated()
  for (const id of ['no-such-tunnel', 'x'.repeat(64)]) {
    assert.deepEqual(await client.join(id), { type: 'error', error: 'unknown_tunnel', message: `no tunnel '${id}' is open` })
  }
  // still authenticated and outside a tunnel: it can open one, and a peer can join it
  const tunnel = await client.open()
  const peer = await authenticated()
  assert.deepEqual(await peer.join(tunnel), { type: 'paired', tunnel })
  client.ws.close()
  await peer.closed
})

test("a third client joining a full tunnel gets 'tunnel_full'; the pair keeps working", { timeout: 20000 }, async () => {
  const { a, b, tunnel } = await pair(server, { clients })
  const third = await authenticated(TOKENS[1])
  assert.deepEqual(await third.join(tunnel), { type: 'error', error: 'tunnel_full', message: `tunnel '${tunnel}' already has two ends` })
  await a.sendData(Buffer.from('still paired'))
  assert.equal((await b.nextData()).toString(), 'still paired')
  assert.equal(third.queue.length, 0, 'the third client receives none of the tunnel\'s data')
  // the third client may still open its own tunnel
  assert.equal(typeof await third.open(), 'string')
  a.ws.close()
  await b.closed
  third.ws.close()
  await third.closed
})

test("'data' outside a tunnel or before the peer joined, and a second 'open'/'join', close with 1008", { timeout: 20000 }, async () => {
  const lonely = await authenticated()
  await lonely.sendData(Buffer.from('to nobody'))
  assert.deepEqual(await lonely.closedWithin(), { code: 1008, reason: "'data' outside a tunnel: send 'open' or 'join' first" })

  const waiting = await authenticated()
  const tunnel = await waiting.open()
  await waiting.sendData(Buffer.from('too early'))
  assert.deepEqual(await waiting.closedWithin(), { code: 1008, reason: `'data' before a peer joined tunnel '${tunnel}'` })

  const twice = await authenticated()
  const first = await twice.open()
  await twice.send({ type: 'open' })
  assert.deepEqual(await twice.closedWithin(), { code: 1008, reason: `'open' while already in tunnel '${first}'` })

  const { b } = await pair(server, { clients })
  await b.send({ type: 'join', tunnel: 'another' })
  const closed = await b.closedWithin()
  assert.equal(closed.code, 1008)
  assert.match(closed.reason, /^'join' while already in tunnel '[\w-]{16}'$/)
})

test('after every connection has gone, no tunnel or connection is left', { timeout: 20000 }, async () => {
  for (const ws of clients) ws.close()
  const deadline = Date.now() + 10000
  let h
  while (Date.now() < deadline) {
    h = await health(server)
    if (h.connections === 0) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  assert.deepEqual(h, { status: 'ok', connections: 0, tunnels: { waiting: 0, paired: 0 } })
})
