'use strict'
// Authentication: a token from TUNNEL_TOKENS in an 'auth' message first; a bad token, another
// message first, a second 'auth' or a malformed 'auth' close that connection with the reason.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { startTunnelServer, health, TunnelClient, TOKENS } = require('./tunnel_support')

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

test('every configured token authenticates', { timeout: 20000 }, async () => {
  for (const token of TOKENS) {
    const client = await connect()
    assert.deepEqual(await client.auth(token), { type: 'authenticated' })
    // authenticated: the connection may now open a tunnel
    assert.equal(typeof await client.open(), 'string')
    client.ws.close()
    await client.closed
  }
})

test('an unknown token closes the connection with 1008 and the reason', { timeout: 20000 }, async () => {
  for (const token of ['token-gamma', '', 'token-alpha ', TOKENS.join(',')]) {
    const client = await connect()
    await client.send({ type: 'auth', token })
    assert.deepEqual(await client.closedWithin(), { code: 1008, reason: 'authentication failed: unknown token' }, `token ${JSON.stringify(token)}`)
    assert.equal(client.queue.length, 0, 'nothing is sent before the close')
  }
})

test('messages before auth are refused with 1008', { timeout: 20000 }, async () => {
  const cases = [
    [{ type: 'open' }, "authenticate first: expected 'auth', got 'open'"],
    [{ type: 'join', tunnel: 'abc' }, "authenticate first: expected 'auth', got 'join'"],
    [{ type: 'data', payload: Buffer.from('sneaky') }, "authenticate first: expected 'auth', got 'data'"]
  ]
  for (const [message, reason] of cases) {
    const client = await connect()
    await client.send(message)
    assert.deepEqual(await client.closedWithin(), { code: 1008, reason })
  }
})

test("an 'auth' without a token, or with a token that is not a str, closes with 1003", { timeout: 20000 }, async () => {
  const cases = [
    [{ type: 'auth' }, "'auth' needs 'token' (str)"],
    [{ type: 'auth', token: 12345 }, "'auth' needs 'token' as str, got int"],
    [{ type: 'auth', token: Buffer.from(TOKENS[0]) }, "'auth' needs 'token' as str, got bin"],
    [{ type: 'auth', token: null }, "'auth' needs 'token' as str, got nil"]
  ]
  for (const [message, reason] of cases) {
    const client = await connect()
    await client.send(message)
    assert.deepEqual(await client.closedWithin(), { code: 1003, reason })
  }
})

test("a second 'auth' on an authenticated connection closes it with 1008", { timeout: 20000 }, async () => {
  const client = await connect()
  assert.deepEqual(await client.auth(), { type: 'authenticated' })
  await client.send({ type: 'auth', token: TOKENS[1] })
  assert.deepEqual(await client.closedWithin(), { code: 1008, reason: "'auth' again: this connection is already authenticated" })
})

test('refused clients leave nothing behind and the server keeps serving', { timeout: 20000 }, async () => {
  const client = await connect()
  assert.deepEqual(await client.auth(TOKENS[1]), { type: 'authenticated' })
  const h = await health(server)
  assert.equal(h.status, 'ok')
  assert.deepEqual(h.tunnels, { waiting: 0, paired: 0 }, 'tunnels opened by closed connections are gone')
  client.ws.close()
  await client.closed
})
