'use strict'
// With REDIS_URL, room messages and broadcasts cross node-asgi processes through a real redis-server
// (AsyncRedisManager): every client gets exactly what its rooms imply, none lost, none doubled; and the
// rate limit is counted in Redis, shared by a user's connections in every process.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startRedis, redisCommand } = require('../../../test/redis_support')
const { waitFor } = require('../../../test/helpers')
const { twoSourcesOnDifferentWorkers } = require('../../../test/cluster_support')
const http = require('node:http')
const { startHub, connectClient, nextEvent, record, ask } = require('./hub_support')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

/**
 * Ways to run the hub as several processes sharing Redis. Each resolves { urls, subscribers, stop() }
 * (stop() resolves an array of the CLI exits):
 * the clients are spread over `urls` round-robin, and `subscribers` is how many hub processes must be
 * subscribed to the Redis channel before the test sends. Another layout (one CLI with `--workers 2`
 * behind one port) slots in here; the test checks that the clients really sit in different processes.
 */
const LAYOUTS = {
  'two node-asgi processes on two ports (native server and --http node)': async (env) => {
    const hubs = await Promise.all([
      startHub({ env, track: children }),
      startHub({ env, track: children, args: ['--http', 'node'] })
    ])
    return { urls: hubs.map((hub) => hub.url), subscribers: 2, stop: () => Promise.all(hubs.map((hub) => hub.stop())) }
  },
  // One CLI, two workers behind one port. The primary keeps each client address on one worker
  // (sticky sessions for Engine.IO long-polling), so the two groups of clients connect from two
  // loopback source addresses that map to different workers.
  'one node-asgi with --workers 2 (sticky by client address)': async (env) => {
    const hub = await startHub({ env, track: children, args: ['--workers', '2'] })
    const sources = twoSourcesOnDifferentWorkers()
    return {
      urls: [hub.url, hub.url],
      clientOptions: sources.map((localAddress) => ({ agent: new http.Agent({ localAddress }) })),
      subscribers: 2,
      stop: async () => [await hub.stop()]
    }
  }
}

let redis
test.before(async () => { redis = await startRedis() })
test.after(() => redis?.stop())

/** Starts `startLayout` with `env` and waits until each of its processes is subscribed to Redis. */
async function startSubscribed (startLayout, env) {
  const layout = await startLayout({ REDIS_URL: redis.url, ...env })
  try {
    await waitFor(async () => (await redisCommand(redis.port, 'PUBSUB', 'NUMSUB', 'socketio'))[1] === layout.subscribers,
      { timeoutMs: 20000, message: `${layout.subscribers} hub processes subscribed to the Redis channel` })
  } catch (err) {
    await layout.stop()
    throw err
  }
  return layout
}

/** The pid of the hub process serving `socket` (from system_status). */
async function pidOf (socket) {
  const status = nextEvent(socket, 'system_status')
  assert.equal((await ask(socket, 'system_status')).ok, true)
  return (await status).pid
}

const N = 25
const EVENTS = ['chat_message', 'file_update', 'tts_notification', 'system_status', 'error']

for (const [name, startLayout] of Object.entries(LAYOUTS)) {
  test(`cross-process delivery through Redis: ${name}`, async (t) => {
    const layout = await startSubscribed(startLayout, { RATE_LIMIT_POINTS: '100000' })
    let stopped = false
    t.after(() => stopped || layout.stop())

    // a1, a2 on the first URL, b1, b2 on the second.
    const names = ['a1', 'b1', 'a2', 'b2']
    const clients = {}
    const got = {}
    for (const [i, user] of names.entries()) {
      clients[user] = await connectClient(layout.urls[i % layout.urls.length], { user, ...layout.clientOptions?.[i % layout.urls.length] })
      got[user] = Object.fromEntries(EVENTS.map((event) => [event, record(clients[user], event)]))
    }
    t.after(() => { for (const socket of Object.values(clients)) socket.close() })
    const pids = {}
    for (const user of names) pids[user] = await pidOf(clients[user])
    assert.notEqual(pids.a1, pids.b1, 'the clients are in two different processes')
    assert.equal(pids.a1, pids.a2)
    assert.equal(pids.b1, pids.b2)

    // Rooms: s1 = {a1, b1}, s2 = {a2, b2}, p1 = {a1, a2, b2}.
    for (const [user, event, payload] of [
      ['a1', 'join_session', { session_id: 's1' }], ['b1', 'join_session', { session_id: 's1' }],
      ['a2', 'join_session', { session_id: 's2' }], ['b2', 'join_session', { session_id: 's2' }],
      ['a1', 'join_project', { project_id: 'p1' }], ['a2', 'join_project', { project_id: 'p1' }],
      ['b2', 'join_project', { project_id: 'p1' }]
    ]) assert.equal((await ask(clients[user], event, payload)).ok, true)

    const began = Date.now()
    const sendMany = async (user, event, payload) => {
      for (let i = 0; i < N; i++) assert.equal((await ask(clients[user], event, payload(i))).ok, true)
    }
    await Promise.all([
      sendMany('a1', 'chat_message', (i) => ({ session_id: 's1', text: `a1-${i}` })),
      sendMany('b1', 'chat_message', (i) => ({ session_id: 's1', text: `b1-${i}` })),
      sendMany('b2', 'chat_message', (i) => ({ session_id: 's2', text: `b2-${i}` })),
      sendMany('a1', 'file_update', (i) => ({ project_id: 'p1', path: `f-${i}`, action: 'modified' })),
      sendMany('a2', 'tts_notification', (i) => ({ text: `a2-${i}` })),
      sendMany('b2', 'tts_notification', (i) => ({ text: `b2-${i}` }))
    ])
    // Every send above is acked, so published; Redis delivers its channel in publish order, so once the
    // end markers (one from each process) reach every client, nothing sent earlier is still in flight.
    const ends = names.flatMap((user) => ['end-a', 'end-b'].map((text) =>
      nextEvent(clients[user], 'tts_notification', { filter: (p) => p.text === text, timeoutMs: 30000 })))
    await ask(clients.a1, 'tts_notification', { text: 'end-a' })
    await ask(clients.b1, 'tts_notification', { text: 'end-b' })
    await Promise.all(ends)
    const ms = Date.now() - began

    const seq = (prefix) => Array.from({ length: N }, (_, i) => `${prefix}-${i}`)
    const from = (list, prefix, field = 'text') => list.map((p) => p[field]).filter((text) => text.startsWith(prefix + '-'))
    for (const user of ['a1', 'b1']) {
      assert.equal(got[user].chat_message.length, 2 * N, `${user} chat count`)
      assert.deepEqual(from(got[user].chat_message, 'a1'), seq('a1'), `${user} gets a1's messages once, in order`)
      assert.deepEqual(from(got[user].chat_message, 'b1'), seq('b1'), `${user} gets b1's messages once, in order`)
    }
    for (const user of ['a2', 'b2']) assert.deepEqual(got[user].chat_message.map((p) => p.text), seq('b2'), `${user} chat`)
    assert.deepEqual(got.a1.file_update, [], 'the sender does not get its file_update')
    assert.deepEqual(got.b1.file_update, [], 'b1 is not in the project')
    for (const user of ['a2', 'b2']) assert.deepEqual(got[user].file_update.map((p) => p.path), seq('f'), `${user} file_update`)
    for (const user of names) {
      const tts = got[user].tts_notification
      assert.equal(tts.length, 2 * N + 2, `${user} tts count`)
      assert.deepEqual(from(tts, 'a2'), seq('a2'), `${user} tts from a2`)
      assert.deepEqual(from(tts, 'b2'), seq('b2'), `${user} tts from b2`)
      assert.equal(got[user].system_status.length, 1, `${user} got only its own system_status`)
      assert.deepEqual(got[user].error, [], `${user} errors`)
    }
    const deliveries = names.reduce((sum, user) =>
      sum + got[user].chat_message.length + got[user].file_update.length + got[user].tts_notification.length, 0)
    for (const socket of Object.values(clients)) socket.close()
    stopped = true
    for (const exit of await layout.stop()) assert.deepEqual([exit.code, exit.timedOut], [0, false], 'graceful exit')
    t.diagnostic(`${6 * N + 2} events sent, ${deliveries} deliveries across 2 processes in ${ms} ms (${Math.round(deliveries / ms * 1000)}/s)`)
  })
}

for (const [name, startLayout] of Object.entries(LAYOUTS)) {
  test(`the rate limit is counted in Redis across processes: ${name}`, async (t) => {
    const layout = await startSubscribed(startLayout, { RATE_LIMIT_POINTS: '4', RATE_LIMIT_WINDOW_SECONDS: '60' })
    t.after(() => layout.stop())
    const limited = `limited-${Object.keys(LAYOUTS).indexOf(name)}` // the same Redis serves every layout: a fresh budget each
    const here = await connectClient(layout.urls[0], { user: limited, ...layout.clientOptions?.[0] })
    const there = await connectClient(layout.urls[1 % layout.urls.length], { user: limited, ...layout.clientOptions?.[1 % layout.urls.length] })
    const other = await connectClient(layout.urls[1 % layout.urls.length], { user: 'unlimited', ...layout.clientOptions?.[1 % layout.urls.length] })
    t.after(() => { here.close(); there.close(); other.close() })
    assert.notEqual(await pidOf(here), await pidOf(there), 'the user is connected to two processes') // 1 point each
    assert.equal((await ask(here, 'system_status')).ok, true) // 3
    assert.equal((await ask(there, 'system_status')).ok, true) // 4: the budget is spent
    for (const socket of [here, there]) {
      const error = nextEvent(socket, 'error')
      const ack = await ask(socket, 'system_status')
      assert.equal(ack.ok, false)
      const got = await error
      assert.equal(got.code, 'rate_limited')
      assert.deepEqual(got.limit, { points: 4, window_seconds: 60 })
      assert.ok(got.retry_after > 0 && got.retry_after <= 60, `retry_after ${got.retry_after}`)
    }
    assert.equal((await ask(other, 'system_status')).ok, true, 'another user has its own budget')
    const ttl = await redisCommand(redis.port, 'PTTL', `socketio-hub:rate:${limited}`)
    assert.ok(ttl > 0 && ttl <= 60000, `the key expires with the window (PTTL ${ttl})`)
  })
}

test('Redis going away mid-run: the hub keeps serving (/health, new connections, answers to the asker); it logs the failures', async (t) => {
  const ownRedis = await startRedis()
  t.after(() => ownRedis.stop())
  const hub = await startHub({ env: { REDIS_URL: ownRedis.url }, track: children })
  t.after(() => hub.stop())
  const before = await connectClient(hub.url, { user: 'before' })
  t.after(() => before.close())
  assert.equal((await ask(before, 'join_session', { session_id: 's1' })).ok, true)
  await ownRedis.stop()
  const health = await fetch(`${hub.url}/health`, { signal: AbortSignal.timeout(10000) })
  assert.equal(health.status, 200)
  assert.equal((await health.json()).status, 'ok')
  const after = await connectClient(hub.url, { user: 'after' })
  t.after(() => after.close())
  assert.deepEqual(await ask(after, 'join_session', { session_id: 's1' }), { ok: true, room: 'session:s1' })
  assert.deepEqual(await ask(before, 'chat_message', { session_id: 's1', text: 'into the void' }), { ok: true })
  const status = nextEvent(after, 'system_status') // answered directly, not through Redis
  assert.deepEqual(await ask(after, 'system_status'), { ok: true })
  assert.equal((await status).user, 'after')
  const error = nextEvent(after, 'error')
  assert.equal((await ask(after, 'tts_notification', { text: '' })).ok, false)
  assert.equal((await error).code, 'invalid_payload')
  await waitFor(() => /rate limit not checked, Redis failed/.test(hub.stderr()) && /Cannot publish to redis/.test(hub.stderr()),
    { timeoutMs: 15000, message: 'the Redis failures in the log' })
})
