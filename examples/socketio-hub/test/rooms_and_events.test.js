'use strict'
// Rooms and each event's audience: chat_message to the session room, file_update to the project room
// minus the sender, tts_notification to everyone, system_status to the asker only.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startHub, connectClient, nextEvent, record, ask, upgraded } = require('./hub_support')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

let hub
const clients = {}
const received = {}
const EVENTS = ['chat_message', 'file_update', 'tts_notification', 'system_status', 'error']

test.before(async () => {
  hub = await startHub({ track: children })
  // alice and bob share session s1; carol is in session s2; alice, bob and dave share project p1.
  for (const user of ['alice', 'bob', 'carol', 'dave']) {
    clients[user] = await connectClient(hub.url, { user })
    received[user] = Object.fromEntries(EVENTS.map((event) => [event, record(clients[user], event)]))
  }
  assert.deepEqual(await ask(clients.alice, 'join_session', { session_id: 's1' }), { ok: true, room: 'session:s1' })
  assert.deepEqual(await ask(clients.bob, 'join_session', { session_id: 's1' }), { ok: true, room: 'session:s1' })
  assert.deepEqual(await ask(clients.carol, 'join_session', { session_id: 's2' }), { ok: true, room: 'session:s2' })
  for (const user of ['alice', 'bob', 'dave']) {
    assert.deepEqual(await ask(clients[user], 'join_project', { project_id: 'p1' }), { ok: true, room: 'project:p1' })
  }
})
test.after(async () => {
  for (const socket of Object.values(clients)) socket.close()
  await hub?.stop()
})

/**
 * Emits a tts_notification from `user` and waits until every client has it: everything sent
 * earlier has been delivered by then (one server, one ordered stream per client), so counts are final.
 */
async function barrier (user = 'dave') {
  const text = `barrier-${Math.random()}`
  const arrivals = Object.values(clients).map((socket) =>
    nextEvent(socket, 'tts_notification', { filter: (p) => p.text === text }))
  await ask(clients[user], 'tts_notification', { text })
  await Promise.all(arrivals)
}

const texts = (list, field = 'text') => list.map((payload) => payload[field])

test('chat_message reaches everyone in the session room, sender included, and no one else', async () => {
  await ask(clients.alice, 'chat_message', { session_id: 's1', text: 'hello s1' })
  await ask(clients.carol, 'chat_message', { session_id: 's2', text: 'hello s2' })
  await barrier()
  assert.deepEqual(texts(received.alice.chat_message), ['hello s1'])
  assert.deepEqual(texts(received.bob.chat_message), ['hello s1'])
  assert.deepEqual(texts(received.carol.chat_message), ['hello s2'])
  assert.deepEqual(received.dave.chat_message, [])
  const [message] = received.bob.chat_message
  assert.equal(message.session_id, 's1')
  assert.equal(message.from.user, 'alice')
  assert.equal(message.from.sid, clients.alice.id)
  assert.equal(typeof message.at, 'number')
})

test('chat_message to a session the sender has not joined is refused with an error event', async () => {
  const error = nextEvent(clients.dave, 'error')
  const ack = await ask(clients.dave, 'chat_message', { session_id: 's1', text: 'let me in' })
  assert.equal(ack.ok, false)
  assert.deepEqual(await error, { event: 'chat_message', code: 'not_in_room', message: 'chat_message: join session:s1 first' })
  await barrier()
  assert.equal(received.alice.chat_message.some((m) => m.text === 'let me in'), false)
})

test('file_update reaches the project room except the sender', async () => {
  const update = { project_id: 'p1', path: 'src/main.py', action: 'modified', content: 'print(1)\n' }
  await ask(clients.alice, 'file_update', update)
  await barrier()
  assert.deepEqual(received.alice.file_update, [])
  for (const user of ['bob', 'dave']) {
    assert.equal(received[user].file_update.length, 1, user)
    const { from, at, ...rest } = received[user].file_update[0]
    assert.deepEqual(rest, update)
    assert.equal(from.user, 'alice')
  }
  assert.deepEqual(received.carol.file_update, [])
})

test('tts_notification reaches every connected client, the sender too', async () => {
  const before = Object.fromEntries(Object.keys(clients).map((u) => [u, received[u].tts_notification.length]))
  await ask(clients.carol, 'tts_notification', { text: 'build finished', voice: 'en-GB' })
  await barrier()
  for (const user of Object.keys(clients)) {
    const fresh = received[user].tts_notification.slice(before[user])
    assert.deepEqual(fresh.filter((p) => p.text === 'build finished').map((p) => [p.voice, p.from.user]), [['en-GB', 'carol']], user)
  }
})

test('system_status answers the asker only, with its rooms', async () => {
  await ask(clients.bob, 'system_status')
  await barrier()
  assert.equal(received.bob.system_status.length, 1)
  for (const user of ['alice', 'carol', 'dave']) assert.deepEqual(received[user].system_status, [], user)
  const status = received.bob.system_status[0]
  assert.equal(status.user, 'bob')
  assert.deepEqual(status.rooms, ['project:p1', 'session:s1'])
  assert.equal(status.connections, 4)
  assert.equal(status.redis, false)
  assert.equal(typeof status.uptime, 'number')
})

test('the audiences hold after the clients upgrade to WebSocket', async () => {
  await Promise.all(Object.values(clients).map((socket) => upgraded(socket)))
  const before = received.bob.chat_message.length
  await ask(clients.alice, 'chat_message', { session_id: 's1', text: 'over websocket' })
  await barrier()
  assert.deepEqual(texts(received.bob.chat_message.slice(before)), ['over websocket'])
  assert.equal(received.dave.chat_message.length, 0)
  for (const user of Object.keys(clients)) assert.deepEqual(received[user].error.filter((e) => e.event !== 'chat_message'), [], user)
})
