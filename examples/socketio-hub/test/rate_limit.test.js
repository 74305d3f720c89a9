'use strict'
// RATE_LIMIT_POINTS events per RATE_LIMIT_WINDOW_SECONDS per user: the event over the limit is answered
// with an error event naming the limit, the user's other connections share it, and it recovers after the window.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startHub, connectClient, nextEvent, record, ask } = require('./hub_support')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

const POINTS = 5
const WINDOW = 4

let hub
test.before(async () => {
  hub = await startHub({ track: children, env: { RATE_LIMIT_POINTS: String(POINTS), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW) } })
})
test.after(() => hub?.stop())

/** Emits `count` events at once (one burst) and resolves their acks in order. */
function burst (socket, count, event = 'system_status', payload = {}) {
  return Promise.all(Array.from({ length: count }, () => ask(socket, event, payload)))
}

test('the event over the limit gets an error event naming the limit; the user recovers after the window', async (t) => {
  const socket = await connectClient(hub.url, { user: 'rl-1' })
  t.after(() => socket.close())
  const errors = record(socket, 'error')
  const acks = await burst(socket, POINTS + 1)
  assert.deepEqual(acks.slice(0, POINTS).map((a) => a.ok), Array(POINTS).fill(true))
  const refused = acks[POINTS]
  assert.equal(refused.ok, false)
  assert.equal(errors.length, 1, 'the error event arrives before the ack (one ordered stream)')
  const [error] = errors
  assert.equal(error.event, 'system_status')
  assert.equal(error.code, 'rate_limited')
  assert.match(error.message, new RegExp(`^rate limit exceeded: ${POINTS} events per ${WINDOW} s; retry in \\d+\\.\\d\\d s$`))
  assert.deepEqual(error.limit, { points: POINTS, window_seconds: WINDOW })
  assert.ok(error.retry_after > 0 && error.retry_after <= WINDOW, `retry_after ${error.retry_after}`)
  assert.deepEqual(refused.error, error)

  // Waits as long as the server said, then the user may send again.
  await new Promise((resolve) => setTimeout(resolve, error.retry_after * 1000 + 100))
  const status = nextEvent(socket, 'system_status')
  assert.deepEqual(await ask(socket, 'system_status'), { ok: true })
  assert.equal((await status).user, 'rl-1')
})

test('the limit is per user: a second connection of the same user shares it, another user does not', async (t) => {
  const first = await connectClient(hub.url, { user: 'rl-2' })
  const second = await connectClient(hub.url, { user: 'rl-2' })
  const other = await connectClient(hub.url, { user: 'rl-3' })
  t.after(() => { first.close(); second.close(); other.close() })
  assert.deepEqual((await burst(first, POINTS)).map((a) => a.ok), Array(POINTS).fill(true))
  const error = nextEvent(second, 'error')
  assert.equal((await ask(second, 'system_status')).ok, false)
  assert.equal((await error).code, 'rate_limited')
  assert.deepEqual(await ask(other, 'system_status'), { ok: true })
})

test('invalid and unknown events spend points too, so a flood of junk is limited as well', async (t) => {
  const socket = await connectClient(hub.url, { user: 'rl-4' })
  t.after(() => socket.close())
  const errors = record(socket, 'error')
  const acks = await burst(socket, POINTS + 2, 'chat_message', { text: 42 })
  assert.equal(acks.every((a) => a.ok === false), true)
  const codes = acks.map((a) => a.error.code)
  assert.deepEqual(codes, [...Array(POINTS).fill('invalid_payload'), 'rate_limited', 'rate_limited'])
  const unknown = await ask(socket, 'no_such_event', {})
  assert.equal(unknown.error.code, 'rate_limited')
  assert.equal(socket.connected, true)
  assert.ok(errors.length >= POINTS + 2)
})
