'use strict'
// Malformed frames close only the connection that sent them, with a code and a reason: bytes that
// are not one MessagePack object → 1007; a text frame or MessagePack of the wrong shape → 1003;
// a payload over 1 MiB → 1009 (the app), a frame over --ws-max-size → 1009 (the server). A tunnel
// of other clients keeps forwarding throughout.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { encode } = require('@msgpack/msgpack')
const { startTunnelServer, health, TunnelClient, pair, patterned, TOKENS, MiB } = require('./tunnel_support')

const children = new Set()
const clients = new Set()
let server
let bystanders // a paired tunnel of well-behaved clients

before(async () => {
  server = await startTunnelServer({ track: children })
  bystanders = await pair(server, { clients })
})
after(async () => {
  for (const ws of clients) ws.terminate()
  await server?.stop()
  for (const child of children) child.kill('SIGKILL')
})

/** The bystanders' tunnel still forwards both ways, exactly. */
async function bystandersStillWork (seed) {
  const { a, b } = bystanders
  const there = patterned(seed, 4096)
  await a.sendData(there)
  assert.ok((await b.nextData()).equals(there), 'the other tunnel still forwards a → b')
  const back = patterned(seed + 1, 4096)
  await b.sendData(back)
  assert.ok((await a.nextData()).equals(back), 'the other tunnel still forwards b → a')
  assert.equal(a.closeInfo, null)
  assert.equal(b.closeInfo, null)
}

/**
 * Sends `frame` (raw) from a client (authenticated first when `auth`) and checks the close it gets,
 * then that the bystanders were not affected.
 */
async function expectClose (frame, { code, reason }, { auth = true, seed = 1 } = {}) {
  const client = await TunnelClient.connect(server, { clients })
  if (auth) assert.deepEqual(await client.auth(TOKENS[1]), { type: 'authenticated' })
  await client.sendRaw(frame)
  const closed = await client.closedWithin()
  assert.equal(closed.code, code, `close code for ${describe(frame)} (reason: ${closed.reason})`)
  if (reason instanceof RegExp) assert.match(closed.reason, reason)
  else assert.equal(closed.reason, reason)
  assert.equal(client.queue.length, 0, 'no reply before the close')
  await bystandersStillWork(seed)
}

const describe = (frame) => typeof frame === 'string' ? `text ${JSON.stringify(frame)}` : `${frame.length} bytes ${frame.subarray(0, 12).toString('hex')}`

test('bytes that are not MessagePack close with 1007', { timeout: 30000 }, async () => {
  const valid = Buffer.from(encode({ type: 'data', payload: Buffer.from('abc') }))
  const cases = [
    [Buffer.from([0xc1]), 'not MessagePack: invalid type byte'], // 0xc1 is never used
    [Buffer.from('GET / HTTP/1.1\r\n'), 'not MessagePack: extra bytes after the first MessagePack object'],
    [valid.subarray(0, valid.length - 1), 'not MessagePack: Unpack failed: incomplete input'],
    [Buffer.concat([valid, Buffer.from([0x00])]), 'not MessagePack: extra bytes after the first MessagePack object'],
    [Buffer.alloc(0), 'not MessagePack: Unpack failed: incomplete input'],
    [Buffer.from([0xa2, 0xff, 0xfe]), /^not MessagePack: a str is not UTF-8 \(invalid start byte\)$/],
    [Buffer.concat([Buffer.alloc(3000, 0x91), Buffer.from([0x01])]), 'not MessagePack: nested too deeply']
  ]
  for (const [i, [frame, reason]] of cases.entries()) {
    await expectClose(frame, { code: 1007, reason }, { seed: 10 + i })
  }
  // before auth too
  await expectClose(Buffer.from([0xc1]), { code: 1007, reason: 'not MessagePack: invalid type byte' }, { auth: false })
})

test('a text frame closes with 1003', { timeout: 30000 }, async () => {
  const reason = 'text frame: send MessagePack maps in binary frames'
  await expectClose(JSON.stringify({ type: 'data', payload: 'abc' }), { code: 1003, reason }, { seed: 20 })
  await expectClose('{"type":"auth","token":"token-alpha"}', { code: 1003, reason }, { auth: false, seed: 21 })
})

test('MessagePack of the wrong shape, an unknown type or wrong field types closes with 1003', { timeout: 30000 }, async () => {
  const cases = [
    [[1, 2, 3], 'a frame must be a MessagePack map, got array'],
    ['data', 'a frame must be a MessagePack map, got str'],
    [null, 'a frame must be a MessagePack map, got nil'],
    [{ payload: Buffer.from('x') }, "a frame needs 'type' (a str), got none"],
    [{ type: 7 }, "a frame needs 'type' (a str), got int"],
    [{ type: 'teleport' }, "unknown message type 'teleport': expected auth, open, join or data"],
    [{ type: 'DATA', payload: Buffer.from('x') }, "unknown message type 'DATA': expected auth, open, join or data"],
    [{ type: 'data' }, "'data' needs 'payload' (bin)"],
    [{ type: 'data', payload: 'a string, not bytes' }, "'data' needs 'payload' as bin, got str"],
    [{ type: 'data', payload: [1, 2, 3] }, "'data' needs 'payload' as bin, got array"],
    [{ type: 'data', payload: Buffer.from('x'), seq: 1 }, "'data' has an unknown field 'seq'"],
    [{ type: 'join', tunnel: 12345 }, "'join' needs 'tunnel' as str, got int"],
    [{ type: 'join', tunnel: '' }, "'join' needs 'tunnel' as 1 to 64 characters"],
    [{ type: 'join', tunnel: 'x'.repeat(65) }, "'join' needs 'tunnel' as 1 to 64 characters"],
    [{ type: 'open', tunnel: 'mine' }, "'open' has an unknown field 'tunnel'"]
  ]
  for (const [i, [value, reason]] of cases.entries()) {
    await expectClose(Buffer.from(encode(value)), { code: 1003, reason }, { seed: 30 + i })
  }
})

test('a payload over 1 MiB closes with 1009 (the app); a frame over --ws-max-size with 1009 (the server)', { timeout: 30000 }, async () => {
  const over = Buffer.from(encode({ type: 'data', payload: Buffer.alloc(MiB + 1, 1) }))
  assert.ok(over.length <= 1049600, 'within the server limit: the app checks it')
  await expectClose(over, { code: 1009, reason: `'data' payload is ${MiB + 1} bytes; the limit is ${MiB}` }, { seed: 60 })
  const huge = Buffer.from(encode({ type: 'data', payload: Buffer.alloc(2 * MiB, 2) }))
  await expectClose(huge, { code: 1009, reason: 'message too big' }, { seed: 61 })
})

test('a paired end that sends a malformed frame is closed, and its peer is told (4000)', { timeout: 30000 }, async () => {
  const { a, b } = await pair(server, { clients })
  await a.sendRaw(Buffer.from([0xc1]))
  assert.deepEqual(await a.closedWithin(), { code: 1007, reason: 'not MessagePack: invalid type byte' })
  assert.deepEqual(await b.closedWithin(), { code: 4000, reason: 'peer left the tunnel (close code 1007)' })
  await bystandersStillWork(70)
  const h = await health(server)
  assert.deepEqual(h.tunnels, { waiting: 0, paired: 1 }, 'only the bystanders\' tunnel is left')
})
