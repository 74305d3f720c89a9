'use strict'
// JWT on connect: a valid token is accepted (polling, then the upgrade to WebSocket); a missing, forged,
// expired or unsigned token is refused with the reason socket.io-client shows in connect_error.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startHub, signToken, connectClient, nextEvent, ask, upgraded } = require('./hub_support')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

let hub
test.before(async () => { hub = await startHub({ track: children }) })
test.after(() => hub?.stop())

async function refusal (auth) {
  const err = await connectClient(hub.url, { auth }).then(
    (socket) => { socket.close(); throw new Error('the connection was accepted') },
    (error) => error)
  return { message: err.message, data: err.data }
}

test('a valid token connects over polling, upgrades to WebSocket, and the user is the token\'s sub', async (t) => {
  const socket = await connectClient(hub.url, { auth: { token: signToken({ sub: 'carol', name: 'Carol' }) } })
  t.after(() => socket.close())
  assert.equal(socket.connected, true)
  await upgraded(socket)
  assert.equal(socket.io.engine.transport.name, 'websocket')
  const status = nextEvent(socket, 'system_status')
  assert.deepEqual(await ask(socket, 'system_status', {}), { ok: true })
  assert.equal((await status).user, 'carol')
})

test('events work while still on long-polling (before any upgrade)', async (t) => {
  const socket = await connectClient(hub.url, { user: 'dave', upgrade: false })
  t.after(() => socket.close())
  const status = nextEvent(socket, 'system_status')
  await ask(socket, 'system_status')
  assert.equal((await status).user, 'dave')
  assert.equal(socket.io.engine.transport.name, 'polling')
})

test('no auth payload: refused, "authentication required"', async () => {
  const { message, data } = await refusal(null)
  assert.match(message, /^authentication required/)
  assert.deepEqual(data, { code: 'missing_token' })
})

test('an auth payload without a token: refused, "authentication required"', async () => {
  const { message, data } = await refusal({ user: 'alice' })
  assert.equal(message, 'authentication required: the auth payload has no token')
  assert.deepEqual(data, { code: 'missing_token' })
})

test('a token signed with another secret: refused, "signature verification failed"', async () => {
  const { message, data } = await refusal({ token: signToken({}, { secret: 'not-the-secret' }) })
  assert.equal(message, 'invalid token: signature verification failed')
  assert.deepEqual(data, { code: 'invalid_token' })
})

test('an expired token: refused, "token expired"', async () => {
  const { message, data } = await refusal({ token: signToken({ exp: Math.floor(Date.now() / 1000) - 60 }) })
  assert.equal(message, 'token expired')
  assert.deepEqual(data, { code: 'token_expired' })
})

test('a token without exp, an unsigned (alg none) token, garbage and a non-string token are refused', async () => {
  const noExp = await refusal({ token: signToken({ exp: undefined }) })
  assert.match(noExp.message, /^invalid token: .*"exp"/)
  const none = signToken({}, { header: { alg: 'none', typ: 'JWT' } }).split('.').slice(0, 2).join('.') + '.'
  const unsigned = await refusal({ token: none })
  assert.match(unsigned.message, /^invalid token: /)
  assert.match((await refusal({ token: 'not-a-jwt' })).message, /^invalid token: /)
  assert.equal((await refusal({ token: 42 })).message, 'invalid token: the token must be a string')
  assert.equal((await refusal({ token: signToken({ sub: 7 }) })).message, 'invalid token: "sub" must be a string of 1-128 characters')
})

test('refused connections leave the hub serving: a valid client still connects', async (t) => {
  const socket = await connectClient(hub.url, { user: 'erin' })
  t.after(() => socket.close())
  assert.equal(socket.connected, true)
})
