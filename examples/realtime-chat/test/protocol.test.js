'use strict'
// The realtime-chat protocol with `ws` clients: joining, broadcasts, join/leave notices, the JSON
// API, and bad input (names, malformed/oversize/unknown frames) answered to the sender only.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { start } = require('../server')
const { ChatClient } = require('./chat_client')

let chat
const clients = []
const open = async () => {
  const client = await ChatClient.open(chat.url)
  clients.push(client)
  return client
}
const api = async (path, init) => {
  const res = await fetch(new URL(path, chat.url), { signal: AbortSignal.timeout(10000), ...init })
  return { status: res.status, body: await res.json() }
}
/** Sends `frame` and expects exactly one error frame back with `code`; returns its message. */
const refused = async (client, frame, code) => {
  client.send(frame)
  const reply = await client.next()
  assert.equal(reply.type, 'error', `expected an error for ${String(frame).slice(0, 60)}, got ${JSON.stringify(reply)}`)
  assert.equal(reply.code, code, reply.error)
  assert.equal(typeof reply.error, 'string')
  return reply.error
}

before(async () => { chat = await start({ port: 0, logger: { error () {}, warn () {}, info () {} } }) })
after(async () => {
  for (const client of clients) client.ws.terminate()
  await chat?.close()
})

test('two users join, see each other join, and every message reaches everyone, the sender included', async () => {
  const alice = await open()
  const joined = await alice.join('alice')
  assert.deepEqual(joined, { type: 'joined', name: 'alice', users: ['alice'] })
  const bob = await open()
  assert.deepEqual((await bob.join('  bob ')).users, ['alice', 'bob'], 'names are trimmed')
  assert.deepEqual(await alice.next(), { type: 'notice', event: 'join', name: 'bob', users: ['alice', 'bob'], text: 'bob joined' })

  alice.send({ type: 'message', text: 'hello bob \u2713' })
  for (const client of [alice, bob]) {
    const message = await client.next()
    assert.equal(message.type, 'message')
    assert.equal(message.from, 'alice')
    assert.equal(message.text, 'hello bob \u2713')
    assert.equal(typeof message.id, 'number')
    assert.ok(Math.abs(message.time - Date.now()) < 60000, `time ${message.time}`)
  }
  bob.send({ type: 'message', text: 'hi alice' })
  assert.equal((await alice.next()).from, 'bob')
  assert.equal((await bob.next()).text, 'hi alice')

  assert.deepEqual(await api('api/users'), { status: 200, body: { users: ['alice', 'bob'] } })
  const health = await api('api/health')
  assert.equal(health.status, 200)
  assert.equal(health.body.status, 'ok')
  assert.equal(health.body.users, 2)

  // leaving is broadcast to those who stay
  await bob.close()
  assert.deepEqual(await alice.next(), { type: 'notice', event: 'leave', name: 'bob', users: ['alice'], text: 'bob left' })
  assert.deepEqual((await api('api/users')).body, { users: ['alice'] })
  await alice.close()
})

test('bad names get a clear error, the connection stays open, and a good name then joins', async () => {
  const carol = await open()
  await carol.join('carol')
  const other = await open()
  assert.match(await refused(other, { type: 'join', name: '' }, 'bad_name'), /'name' must not be empty/)
  assert.match(await refused(other, { type: 'join', name: '   ' }, 'bad_name'), /must not be empty/)
  assert.match(await refused(other, { type: 'join' }, 'bad_name'), /'name' must be a string/)
  assert.match(await refused(other, { type: 'join', name: 42 }, 'bad_name'), /must be a string/)
  assert.match(await refused(other, { type: 'join', name: 'x'.repeat(25) }, 'bad_name'), /25 characters; the limit is 24/)
  assert.match(await refused(other, { type: 'join', name: 'a\u0007b' }, 'bad_name'), /control characters/)
  assert.match(await refused(other, { type: 'join', name: 'CAROL' }, 'name_taken'), /'CAROL' is taken/)
  assert.match(await refused(other, { type: 'message', text: 'sneaky' }, 'not_joined'), /before messages/)
  assert.equal((await other.join('x'.repeat(24))).name, 'x'.repeat(24))
  assert.match(await refused(other, { type: 'join', name: 'again' }, 'already_joined'), /already joined/)
  // carol saw only the one successful join
  assert.equal((await carol.next()).name, 'x'.repeat(24))
  assert.equal(carol.inbox.length, 0, JSON.stringify(carol.inbox))
  await other.close()
  await carol.next() // other's leave notice
  await carol.close()
})

test('malformed, oversize and unknown frames get an error to the sender only; the app keeps serving everyone', async () => {
  const dave = await open()
  await dave.join('dave')
  const erin = await open()
  await erin.join('erin')
  await dave.next() // erin's join notice

  assert.match(await refused(erin, '{"type": "message", "text": ', 'bad_json'), /not valid JSON/)
  assert.match(await refused(erin, 'not json at all', 'bad_json'), /not valid JSON/)
  assert.match(await refused(erin, '['.repeat(4000), 'bad_json'), /not valid JSON/)
  assert.match(await refused(erin, '[1, 2]', 'bad_message'), /JSON object with a string 'type'/)
  assert.match(await refused(erin, { type: 7 }, 'bad_message'), /string 'type'/)
  assert.match(await refused(erin, { type: 'shout', text: 'HI' }, 'unknown_type'), /unknown message type 'shout'; expected 'join' or 'message'/)
  assert.match(await refused(erin, { type: 'message', text: 'y'.repeat(501) }, 'text_too_long'), /501 characters; the limit is 500/)
  assert.match(await refused(erin, { type: 'message', text: ' \n ' }, 'empty_text'), /must not be empty/)
  assert.match(await refused(erin, { type: 'message', text: ['a'] }, 'bad_message'), /'text' must be a string/)
  assert.match(await refused(erin, Buffer.from('{"type":"message"}'), 'binary_frame'), /binary frames are not supported/)
  assert.match(await refused(erin, JSON.stringify({ type: 'message', text: 'z'.repeat(5000) }), 'frame_too_large'), /the limit is 4096/)

  // none of that reached dave; a message at the limit does
  erin.send({ type: 'message', text: 'm'.repeat(500) })
  const relayed = await dave.next()
  assert.equal(relayed.type, 'message', JSON.stringify(relayed).slice(0, 200))
  assert.equal(relayed.text.length, 500)
  assert.equal((await erin.next()).text.length, 500)
  assert.equal(dave.inbox.length, 0)

  // a frame over the server's 64 KiB wsMaxSize closes only that connection, with 1009
  const frank = await open()
  frank.send('f'.repeat(70000))
  assert.equal((await frank.closed).code, 1009)
  dave.send({ type: 'message', text: 'still here?' })
  assert.equal((await erin.next()).text, 'still here?')
  assert.equal((await dave.next()).text, 'still here?')
  assert.equal((await api('api/health')).body.status, 'ok')
  await erin.close()
  await dave.next()
  await dave.close()
})

test('the shutdown-notice route answers 404 to HTTP clients: only the server process may call it', async () => {
  const res = await api('api/internal/shutdown-notice', { method: 'POST' })
  assert.equal(res.status, 404)
  assert.equal((await api('api/health')).body.status, 'ok')
})
