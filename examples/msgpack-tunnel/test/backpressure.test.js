'use strict'
// Bursts under backpressure: a fast sender to a reader that stops reading is slowed to the reader's
// pace (the app awaits the reader's send(); node-asgi then stops reading the sender after
// --ws-max-queue frames), so the burst waits on the sender's side, the server's memory stays
// bounded, other tunnels keep flowing, and every frame arrives, in order, once the reader resumes.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { rssOf, sleep } = require('../../../test/helpers')
const { startTunnelServer, pair, patterned, MiB } = require('./tunnel_support')

const children = new Set()
const clients = new Set()
let server

before(async () => { server = await startTunnelServer({ track: children }) })
after(async () => {
  for (const ws of clients) ws.terminate()
  await server?.stop()
  for (const child of children) child.kill('SIGKILL')
})

/** Polls `read()` until it returns the same value for `stableMs` (bounded by `timeoutMs`); returns it. */
async function settle (read, { stableMs = 500, timeoutMs = 10000 } = {}) {
  const deadline = Date.now() + timeoutMs
  let last = read()
  let since = Date.now()
  while (Date.now() < deadline) {
    await sleep(50)
    const value = read()
    if (value !== last) {
      last = value
      since = Date.now()
    } else if (Date.now() - since >= stableMs) {
      break
    }
  }
  return last
}

const frame = (seq, size) => {
  const payload = patterned(seq, size)
  payload.writeUInt32BE(seq, 0)
  return payload
}

test('a fast sender to a reader that stops reading: bounded server memory, then everything in order', { timeout: 90000 }, async (t) => {
  const size = 128 * 1024
  const count = 384 // 48 MiB
  const { a, b } = await pair(server, { clients })
  // warm up the path (and the server's allocator) with a few frames each way
  for (let seq = 0; seq < 8; seq++) {
    await a.sendData(frame(seq, size))
    assert.ok((await b.nextData()).equals(frame(seq, size)))
  }
  const baseline = rssOf(server.child.pid)

  b.ws.pause() // the reader stops reading its socket
  let peak = baseline
  const sample = setInterval(() => { peak = Math.max(peak, rssOf(server.child.pid)) }, 25)
  t.after(() => clearInterval(sample)) // also when an assertion fails
  let sendsDone = 0
  for (let seq = 0; seq < count; seq++) a.sendData(frame(seq, size)).then(() => sendsDone++)
  const unsent = await settle(() => a.ws.bufferedAmount)
  peak = Math.max(peak, rssOf(server.child.pid))

  // Most of the burst is still on the sender's side: the server stopped reading it.
  assert.ok(unsent > 24 * MiB, `the server kept reading a sender whose reader is stalled: only ${(unsent / MiB).toFixed(1)} of 48 MiB left unsent`)
  assert.ok(sendsDone < count / 2, `${sendsDone} of ${count} sends completed while the reader read nothing`)
  const growth = peak - baseline
  t.diagnostic(`server RSS: baseline ${(baseline / MiB).toFixed(1)} MiB, peak growth ${(growth / MiB).toFixed(1)} MiB with ${(unsent / MiB).toFixed(1)} MiB waiting on the sender`)
  assert.ok(growth < 16 * MiB, `server RSS grew by ${(growth / MiB).toFixed(1)} MiB during a 48 MiB burst to a stalled reader`)

  // Another tunnel is not held up by the stalled one.
  const other = await pair(server, { clients })
  await other.a.sendData(Buffer.from('not blocked'))
  assert.equal((await other.b.nextData()).toString(), 'not blocked')

  // The reader resumes: every frame arrives intact and in order, and the sender's buffer drains.
  b.ws.resume()
  for (let seq = 0; seq < count; seq++) {
    const payload = await b.nextData({ timeoutMs: 30000 })
    assert.equal(payload.readUInt32BE(0), seq, 'in order')
    assert.ok(payload.equals(frame(seq, size)), `frame ${seq} intact`)
  }
  clearInterval(sample)
  const deadline = Date.now() + 10000
  while ((a.ws.bufferedAmount > 0 || sendsDone < count) && Date.now() < deadline) await sleep(20)
  assert.equal(sendsDone, count, 'every send completed')
  assert.equal(a.ws.bufferedAmount, 0)
  assert.equal(a.closeInfo, null)
  assert.equal(b.closeInfo, null)
})
