'use strict'
// Settings from the environment: without TUNNEL_TOKENS (or with a bad TUNNEL_AUTH_TIMEOUT) startup
// fails with a message naming the variable and exit code 3; TUNNEL_AUTH_TIMEOUT closes a connection
// that does not authenticate in time with 1008; GET /health and other HTTP paths.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const WebSocket = require('ws')
const { startCli } = require('../../../test/helpers')
const { SERVER_ARGS, startTunnelServer, health, TunnelClient, TOKENS } = require('./tunnel_support')

const children = new Set()
const clients = new Set()
after(() => {
  for (const ws of clients) ws.terminate()
  for (const child of children) child.kill('SIGKILL')
})

/** Runs the server with `env` and expects startup to fail: resolves the error (with the CLI's stderr). */
async function failedStartup (env) {
  let cli
  try {
    cli = await startCli(SERVER_ARGS, { env, track: children })
  } catch (err) {
    return err.message
  }
  await cli.stop()
  assert.fail('the server started')
}

test('without TUNNEL_TOKENS the server does not start, and says why (exit code 3)', { timeout: 30000 }, async () => {
  for (const tokens of [undefined, ' , ,']) {
    const message = await failedStartup({ TUNNEL_TOKENS: tokens })
    assert.match(message, /the CLI exited \(3\) before listening/)
    assert.match(message, /TUNNEL_TOKENS is not set: give the accepted tokens, comma-separated/)
  }
})

test('a TUNNEL_AUTH_TIMEOUT that is not a positive number of seconds fails startup', { timeout: 30000 }, async () => {
  for (const timeout of ['soon', '0']) {
    const message = await failedStartup({ TUNNEL_TOKENS: 'x', TUNNEL_AUTH_TIMEOUT: timeout })
    assert.match(message, /the CLI exited \(3\) before listening/)
    assert.ok(message.includes(`TUNNEL_AUTH_TIMEOUT must be seconds between 0 and 3600, got '${timeout}'`), message)
  }
})

test('a connection that does not authenticate within TUNNEL_AUTH_TIMEOUT is closed with 1008', { timeout: 30000 }, async (t) => {
  const server = await startTunnelServer({ env: { TUNNEL_AUTH_TIMEOUT: '0.5' }, track: children })
  t.after(() => server.stop())
  const idle = await TunnelClient.connect(server, { clients })
  const quick = await TunnelClient.connect(server, { clients })
  const began = Date.now()
  assert.deepEqual(await quick.auth(TOKENS[0]), { type: 'authenticated' })
  assert.deepEqual(await idle.closedWithin(), { code: 1008, reason: "no 'auth' message within 0.5 s" })
  assert.ok(Date.now() - began >= 400, 'not closed before the timeout')
  // the authenticated connection outlives the timeout
  const tunnel = await quick.open()
  assert.equal(typeof tunnel, 'string')
  assert.equal(quick.closeInfo, null)
  assert.deepEqual((await health(server)).tunnels, { waiting: 1, paired: 0 })
})

test('GET /health answers JSON; other HTTP paths 404; WebSockets elsewhere are refused', { timeout: 30000 }, async (t) => {
  const server = await startTunnelServer({ track: children })
  t.after(() => server.stop())
  assert.deepEqual(await health(server), { status: 'ok', connections: 0, tunnels: { waiting: 0, paired: 0 } })
  const res = await fetch(`${server.url}/`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 404)
  assert.match(await res.text(), /WebSocket \/tunnel, or GET \/health/)
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/elsewhere`)
  const status = await new Promise((resolve) => {
    ws.on('unexpected-response', (req, response) => { resolve(response.statusCode); req.destroy() })
    ws.on('error', () => {})
  })
  assert.equal(status, 403)
})
