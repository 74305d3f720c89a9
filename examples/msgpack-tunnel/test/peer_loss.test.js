'use strict'
// A lost peer closes its tunnel's other end with 4000 and a reason naming the peer's close code,
// after everything the peer sent before leaving was delivered; the tunnel id is then gone.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startTunnelServer, health, TunnelClient, pair, patterned, TOKENS } = require('./tunnel_support')

const children = new Set()
const clients = new Set()
let server

before(async () => { server = await startTunnelServer({ track: children }) })
after(async () => {
  for (const ws of clients) ws.terminate()
  await server?.stop()
  for (const child of children) child.kill('SIGKILL')
})

test('the opener closing normally closes the joiner with 4000', { timeout: 20000 }, async () => {
  const { a, b } = await pair(server, { clients })
  a.ws.close(1000, 'done')
  assert.equal((await a.closedWithin()).code, 1000, 'the server answers the close')
  assert.deepEqual(await b.closedWithin(), { code: 4000, reason: 'peer left the tunnel (close code 1000)' })
})

test("the joiner closing closes the opener, with the joiner's code in the reason", { timeout: 20000 }, async () => {
  const { a, b } = await pair(server, { clients })
  b.ws.close(4321, 'switching networks')
  assert.deepEqual(await a.closedWithin(), { code: 4000, reason: 'peer left the tunnel (close code 4321)' })
})

test('a peer whose connection is lost without a close frame (1006) closes the other end', { timeout: 20000 }, async () => {
  const { a, b } = await pair(server, { clients })
  b.ws.terminate() // the TCP connection is destroyed: no close frame
  assert.deepEqual(await a.closedWithin(), { code: 4000, reason: 'peer left the tunnel (close code 1006)' })
})

test('frames sent just before the peer left are delivered before the close', { timeout: 30000 }, async () => {
  const { a, b } = await pair(server, { clients })
  const count = 50
  for (let seq = 0; seq < count; seq++) a.sendData(patterned(seq, 8192))
  a.ws.close() // no status code: the server sees 1005
  for (let seq = 0; seq < count; seq++) {
    assert.ok((await b.nextData()).equals(patterned(seq, 8192)), `frame ${seq} delivered intact, in order`)
  }
  assert.deepEqual(await b.closedWithin(), { code: 4000, reason: 'peer left the tunnel (close code 1005)' })
  assert.equal(b.queue.length, 0)
})

test('a tunnel whose ends have left cannot be joined; an opener leaving before a join removes its tunnel', { timeout: 20000 }, async () => {
  const { a, b, tunnel } = await pair(server, { clients })
  a.ws.close()
  await b.closed
  const late = await TunnelClient.connect(server, { clients })
  assert.deepEqual(await late.auth(TOKENS[0]), { type: 'authenticated' })
  assert.deepEqual(await late.join(tunnel), { type: 'error', error: 'unknown_tunnel', message: `no tunnel '${tunnel}' is open` })

  const opener = await TunnelClient.connect(server, { clients })
  await opener.auth(TOKENS[1])
  const waiting = await opener.open()
  opener.ws.terminate()
  await opener.closed
  // the server notices the lost connection asynchronously: wait for the tunnel to go
  const deadline = Date.now() + 10000
  while ((await health(server)).tunnels.waiting !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  assert.deepEqual(await late.join(waiting), { type: 'error', error: 'unknown_tunnel', message: `no tunnel '${waiting}' is open` })
  late.ws.close()
  await late.closed
})

test('both ends leaving at once is handled once, and nothing is left behind', { timeout: 20000 }, async () => {
  const pairs = await Promise.all([1, 2, 3].map(() => pair(server, { clients })))
  for (const { a, b } of pairs) { a.ws.terminate(); b.ws.close() }
  const deadline = Date.now() + 10000
  let h = await health(server)
  while (h.connections !== 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    h = await health(server)
  }
  assert.deepEqual(h, { status: 'ok', connections: 0, tunnels: { waiting: 0, paired: 0 } })
  // and the server still pairs and forwards
  const { a, b } = await pair(server, { clients })
  await a.sendData(Buffer.from('alive'))
  assert.equal((await b.nextData()).toString(), 'alive')
})
