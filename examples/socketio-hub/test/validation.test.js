'use strict'
// Every event's payload is checked (types, lengths, required and unknown fields, allowed values); a bad one
// gets an error event with the reason, and the session goes on serving.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startHub, connectClient, nextEvent, ask } = require('./hub_support')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

let hub
let socket
test.before(async () => {
  hub = await startHub({ track: children, env: { RATE_LIMIT_POINTS: '10000' } })
  socket = await connectClient(hub.url, { user: 'validator' })
  assert.deepEqual(await ask(socket, 'join_session', { session_id: 's1' }), { ok: true, room: 'session:s1' })
  assert.deepEqual(await ask(socket, 'join_project', { project_id: 'p1' }), { ok: true, room: 'project:p1' })
})
test.after(async () => {
  socket?.close()
  await hub?.stop()
})

/** Emits `args` and returns the error event, checking the ack carries the same error. */
async function refused (event, ...args) {
  const error = nextEvent(socket, 'error')
  const ack = await socket.timeout(15000).emitWithAck(event, ...args)
  assert.equal(ack.ok, false, `${event} ${JSON.stringify(args)} was accepted`)
  const got = await error
  assert.deepEqual(ack.error, got)
  return got
}

const CASES = [
  ['chat_message', [{ session_id: 's1' }], "chat_message: field 'text' is required"],
  ['chat_message', [{ session_id: 's1', text: 42 }], "chat_message: field 'text' must be a string, got number"],
  ['chat_message', [{ session_id: 's1', text: '' }], "chat_message: field 'text' must be 1-2000 characters, got 0"],
  ['chat_message', [{ session_id: 's1', text: 'x'.repeat(2001) }], "chat_message: field 'text' must be 1-2000 characters, got 2001"],
  ['chat_message', [{ session_id: 's 1', text: 'hi' }], "chat_message: field 'session_id' must be 1-64 of A-Z a-z 0-9 _ . : -, got 's 1'"],
  ['chat_message', [{ session_id: 's1', text: 'hi', html: '<b>' }], "chat_message: unknown field 'html'"],
  ['chat_message', [['s1', 'hi']], 'chat_message: the payload must be an object, got array'],
  ['chat_message', [null], 'chat_message: the payload must be an object, got null'],
  ['chat_message', [Buffer.from('hi')], 'chat_message: the payload must be an object, got binary'],
  ['chat_message', [{ session_id: 's1', text: 'hi' }, 'extra'], 'chat_message: expected one payload argument, got 2'],
  ['join_session', [{ session_id: 'x'.repeat(65) }], "join_session: field 'session_id' must be 1-64 characters, got 65"],
  ['join_session', [{}], "join_session: field 'session_id' is required"],
  ['join_project', [{ project_id: true }], "join_project: field 'project_id' must be a string, got boolean"],
  ['file_update', [{ project_id: 'p1', path: 'a.py', action: 'renamed' }],
    "file_update: field 'action' must be one of created, modified, deleted, got 'renamed'"],
  ['file_update', [{ project_id: 'p1', path: '', action: 'created' }], "file_update: field 'path' must be 1-512 characters, got 0"],
  ['file_update', [{ project_id: 'p1', path: 'a.py', action: 'created', content: { lines: [] } }],
    "file_update: field 'content' must be a string, got object"],
  ['tts_notification', [{ text: 'y'.repeat(501) }], "tts_notification: field 'text' must be 1-500 characters, got 501"],
  ['tts_notification', [{ text: 'hi', voice: 'en GB' }], "tts_notification: field 'voice' must be 1-64 of A-Z a-z 0-9 _ . : -, got 'en GB'"],
  ['system_status', [{ verbose: true }], "system_status: unknown field 'verbose'"],
  ['terminal_command', [{}], "terminal_command: field 'command' is required"]
]

for (const [event, args, message] of CASES) {
  test(`${event} ${JSON.stringify(args).slice(0, 60)} → ${message.slice(0, 70)}`, async () => {
    const error = await refused(event, ...args)
    assert.deepEqual(error, { event, code: 'invalid_payload', message })
  })
}

test('an unknown event is answered with unknown_event naming the known ones', async () => {
  const error = await refused('drop_database', { now: true })
  assert.equal(error.code, 'unknown_event')
  assert.equal(error.event, 'drop_database')
  assert.match(error.message, /^unknown event 'drop_database'; known: chat_message, file_update, join_project/)
})

test('a connection may join at most 100 rooms; joining one it is already in still works', async (t) => {
  const joiner = await connectClient(hub.url, { user: 'joiner' })
  t.after(() => joiner.close())
  for (let i = 0; i < 100; i++) {
    const event = i % 2 ? 'join_project' : 'join_session'
    const ack = await ask(joiner, event, i % 2 ? { project_id: `p${i}` } : { session_id: `s${i}` })
    assert.equal(ack.ok, true, `join ${i}`)
  }
  const error = nextEvent(joiner, 'error')
  const ack = await ask(joiner, 'join_session', { session_id: 'one-too-many' })
  assert.equal(ack.ok, false)
  assert.deepEqual(await error, { event: 'join_session', code: 'too_many_rooms', message: 'join_session: a connection may join at most 100 rooms' })
  assert.deepEqual(await ask(joiner, 'join_session', { session_id: 's0' }), { ok: true, room: 'session:s0' })
})

test('after all of that the session still works: a valid chat_message is delivered', async () => {
  assert.equal(socket.connected, true)
  const message = nextEvent(socket, 'chat_message')
  assert.deepEqual(await ask(socket, 'chat_message', { session_id: 's1', text: 'still here' }), { ok: true })
  assert.equal((await message).text, 'still here')
  const log = hub.stderr()
  assert.doesNotMatch(log, /Traceback/, 'no handler raised')
})
