'use strict'
// The same example under the CLI's `--http node` (node:http + ws instead of the native server):
// pairing, exact 1 MiB frames both ways, a burst in order, malformed frames closing only their
// connection, peer loss, and a burst to a stalled reader keeping the server's memory bounded.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { encode } = require('@msgpack/msgpack')
const { rssOf, sleep } = require('../../../test/helpers')
const { startTunnelServer, health, TunnelClient, pair, patterned, TOKENS, MiB } = require('./tunnel_support')

const children = new Set()
const clients = new Set()
let server

before(async () => { server = await startTunnelServer({ http: 'node', track: children }) })
after(async () => {
  for (const ws of clients) ws.terminate()
  await server?.stop()
  for (const child of children) child.kill('SIGKILL')
})

test('pairs, and forwards 1 MiB frames both ways and a burst in order', { timeout: 30000 }, async () => {
  const { a, b } = await pair(server, { clients })
  const big = patterned(1, MiB)
  await a.sendData(big)
  assert.ok((await b.nextData()).equals(big))
  await b.sendData(patterned(2, MiB))
  assert.ok((await a.nextData()).equals(patterned(2, MiB)))
  const count = 200
  for (let seq = 0; seq < count; seq++) a.sendData(patterned(seq, 1000 + seq))
  for (let seq = 0; seq < count; seq++) assert.ok((await b.nextData()).equals(patterned(seq, 1000 + seq)), `frame ${seq}`)
  a.ws.close()
  assert.deepEqual(await b.closedWithin(), { code: 4000, reason: 'peer left the tunnel (close code 1005)' })
})

test('malformed frames close only their connection (1007, 1003, 1009)', { timeout: 30000 }, async () => {
  const { a, b } = await pair(server, { clients })
  const cases = [
    [Buffer.from([0xc1]), 1007, 'not MessagePack: invalid type byte'],
    ['a text frame', 1003, 'text frame: send MessagePack maps in binary frames'],
    [Buffer.from(encode({ type: 'teleport' })), 1003, "unknown message type 'teleport': expected auth, open, join or data"],
    [Buffer.from(encode({ type: 'data', payload: Buffer.alloc(MiB + 1) })), 1009, `'data' payload is ${MiB + 1} bytes; the limit is ${MiB}`],
    [Buffer.from(encode({ type: 'data', payload: Buffer.alloc(2 * MiB) })), 1009, null] // the server's limit
  ]
  for (const [frame, code, reason] of cases) {
    const client = await TunnelClient.connect(server, { clients })
    assert.deepEqual(await client.auth(TOKENS[1]), { type: 'authenticated' })
    await client.sendRaw(frame)
    const closed = await client.closedWithin()
    assert.equal(closed.code, code)
    if (reason !== null) assert.equal(closed.reason, reason)
    await a.sendData(Buffer.from('still here'))
    assert.equal((await b.nextData()).toString(), 'still here')
  }
  a.ws.close()
  await b.closed
})

test('a 48 MiB burst to a stalled reader waits on the sender; server memory stays bounded', { timeout: 90000 }, async (t) => {
  const size = 128 * 1024
  const count = 384
  const { a, b } = await pair(server, { clients })
  for (let seq = 0; seq < 8; seq++) {
    await a.sendData(patterned(seq, size))
    await b.nextData()
  }
  const baseline = rssOf(server.child.pid)
  let peak = baseline
  const sample = setInterval(() => { peak = Math.max(peak, rssOf(server.child.pid)) }, 25)
  t.after(() => clearInterval(sample))
  b.ws.pause()
  let sendsDone = 0
  for (let seq = 0; seq < count; seq++) a.sendData(patterned(seq, size)).then(() => sendsDone++)
  let last = -1
  for (let stable = 0, deadline = Date.now() + 10000; stable < 10 && Date.now() < deadline; await sleep(50)) {
    stable = a.ws.bufferedAmount === last ? stable + 1 : 0
    last = a.ws.bufferedAmount
  }
  const growth = peak - baseline
  t.diagnostic(`--http node: server RSS growth ${(growth / MiB).toFixed(1)} MiB with ${(last / MiB).toFixed(1)} MiB waiting on the sender`)
  assert.ok(last > 24 * MiB, `only ${(last / MiB).toFixed(1)} MiB of 48 left on the sender`)
  // node:http and ws read further ahead than the native server (about 12 MiB here, whatever the burst)
  assert.ok(growth < 32 * MiB, `server RSS grew by ${(growth / MiB).toFixed(1)} MiB`)
  b.ws.resume()
  for (let seq = 0; seq < count; seq++) assert.ok((await b.nextData({ timeoutMs: 30000 })).equals(patterned(seq, size)), `frame ${seq}`)
  const deadline = Date.now() + 10000
  while (sendsDone < count && Date.now() < deadline) await sleep(20)
  assert.equal(sendsDone, count)
  a.ws.close()
  await b.closed
  assert.equal((await health(server)).tunnels.paired, 0)
})
