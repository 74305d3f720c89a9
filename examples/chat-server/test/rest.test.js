'use strict'
// The REST API under /api with fetch: register, send (reaching the room's WebSocket clients),
// list, pause, close and status, and FastAPI's 422 with details for every kind of bad body.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startChat, LineClient, post, get, rest } = require('./chat_support')

let served
const open = new Set()
const hello = async (room, id) => track(await LineClient.hello(served.url, room, id))
const track = (client) => { open.add(client); return client }

test.before(async () => { served = await startChat() })
test.after(async () => {
  await Promise.all([...open].map((c) => c.close()))
  await served?.close()
})

test('POST /clients/register creates a NEW client; a taken id is 409', async () => {
  const created = await post(served.url, '/clients/register', { client_id: 'reg1', room: 'hall' })
  assert.equal(created.status, 201)
  assert.deepEqual(created.body, { client_id: 'reg1', room: 'hall', status: 'NEW' })
  const again = await post(served.url, '/clients/register', { client_id: 'reg1', room: 'other' })
  assert.equal(again.status, 409)
  assert.deepEqual(again.body, { detail: "client 'reg1' already exists" })
})

test('bad bodies get 422 with a detail for each field at fault, and change nothing', async () => {
  const before = (await get(served.url, '/server/status')).body.clients
  const cases = [
    ['/clients/register', { client_id: 'ok' }, [[['body', 'room'], 'value_error.missing']]],
    ['/clients/register', { client_id: 7, room: 'hall' }, [[['body', 'client_id'], 'type_error.str']]],
    ['/clients/register', { client_id: 'has space', room: 'hall' }, [[['body', 'client_id'], 'value_error.str.regex']]],
    ['/clients/register', { client_id: 'x'.repeat(33), room: 'hall' }, [[['body', 'client_id'], 'value_error.str.regex']]],
    ['/clients/register', { client_id: 'ok', room: 'hall', colour: 'red' }, [[['body', 'colour'], 'value_error.extra']]],
    ['/clients/register', ['client_id', 'room'], [[['body'], 'type_error.dict']]],
    ['/messages/send', { room: 'hall', client_id: 'reg1', message: '' }, [[['body', 'message'], 'value_error.any_str.min_length']]],
    ['/messages/send', { room: 'hall', client_id: 'reg1', message: 'm'.repeat(256) }, [[['body', 'message'], 'value_error.any_str.max_length']]],
    ['/messages/send', { room: 'hall', client_id: 'reg1', message: 42 }, [[['body', 'message'], 'type_error.str']]],
    ['/messages/send', {}, [[['body', 'room'], 'value_error.missing'], [['body', 'client_id'], 'value_error.missing'], [['body', 'message'], 'value_error.missing']]],
    ['/clients/pause', { client_id: 'reg1', resume: 'yes' }, [[['body', 'resume'], 'value_error.strictbool']]],
    ['/clients/close', { client_id: null }, [[['body', 'client_id'], 'type_error.none.not_allowed']]]
  ]
  for (const [path, body, expected] of cases) {
    const res = await post(served.url, path, body)
    assert.equal(res.status, 422, `${path} ${JSON.stringify(body).slice(0, 80)}`)
    assert.deepEqual(res.body.detail.map((d) => [d.loc, d.type]), expected, `${path} ${JSON.stringify(body).slice(0, 80)}`)
    for (const d of res.body.detail) assert.equal(typeof d.msg, 'string')
  }
  const tooLong = await post(served.url, '/messages/send', { room: 'hall', client_id: 'reg1', message: 'm'.repeat(256) })
  assert.equal(tooLong.body.detail[0].msg, 'ensure this value has at most 255 characters')
  const notJson = await post(served.url, '/clients/register', '{"client_id": "a",')
  assert.equal(notJson.status, 422)
  assert.equal(notJson.body.detail[0].type, 'value_error.jsondecode')
  assert.equal((await get(served.url, '/server/status')).body.clients, before)
})

test('POST /messages/send reaches the room\'s WebSocket clients, not other rooms\'', async () => {
  assert.equal((await post(served.url, '/clients/register', { client_id: 'bot', room: 'news' })).status, 201)
  const ana = await hello('news', 'ana')
  const bea = await hello('news', 'bea')
  const out = await hello('sport', 'out')
  const sent = await post(served.url, '/messages/send', { room: 'news', client_id: 'bot', message: 'breaking: it works' })
  assert.equal(sent.status, 200)
  assert.deepEqual(sent.body, { room: 'news', client_id: 'bot', delivered: 2, held: 0 })
  assert.equal(await ana.next(), 'MSG news:bot breaking: it works')
  assert.equal(await bea.next(), 'MSG news:bot breaking: it works')
  assert.equal(await out.command('LIST rooms'), 'OK ROOMS hall:1 news:3 sport:1', 'out got nothing before its reply')
  // a WebSocket client can be the sender too
  assert.deepEqual((await post(served.url, '/messages/send', { room: 'news', client_id: 'ana', message: 'from ana' })).body,
    { room: 'news', client_id: 'ana', delivered: 1, held: 0 })
  assert.equal(await bea.next(), 'MSG news:ana from ana')
  assert.deepEqual(ana.unread(), [], 'the sender does not get its own message')
})

test('POST /messages/send refuses unknown clients and rooms (404) and senders outside the room (409)', async () => {
  const cases = [
    [{ room: 'news', client_id: 'ghost', message: 'boo' }, 404, "unknown client 'ghost'"],
    [{ room: 'nowhere', client_id: 'bot', message: 'hi' }, 404, "unknown room 'nowhere'"],
    [{ room: 'sport', client_id: 'bot', message: 'hi' }, 409, "client 'bot' is not in room 'sport' (it is in 'news')"]
  ]
  for (const [body, status, detail] of cases) {
    const res = await post(served.url, '/messages/send', body)
    assert.equal(res.status, status)
    assert.deepEqual(res.body, { detail })
  }
})

test('GET /chatrooms/list lists each room with its members\' statuses and its message count', async () => {
  const res = await get(served.url, '/chatrooms/list')
  assert.equal(res.status, 200)
  const news = res.body.rooms.find((r) => r.name === 'news')
  assert.deepEqual(news, {
    name: 'news',
    clients: [
      { client_id: 'bot', room: 'news', status: 'NEW' },
      { client_id: 'ana', room: 'news', status: 'CONNECTED' },
      { client_id: 'bea', room: 'news', status: 'CONNECTED' }
    ],
    messages: 2
  })
  assert.deepEqual(res.body.rooms.map((r) => r.name), ['hall', 'news', 'sport'])
})

test('POST /clients/pause pauses and resumes; clients that cannot be are 404/409 with the reason', async () => {
  const cid = await hello('desk', 'cid')
  const dan = await hello('desk', 'dan')
  assert.deepEqual((await post(served.url, '/clients/pause', { client_id: 'cid' })).body, { client_id: 'cid', room: 'desk', status: 'SUSPENDED' })
  assert.deepEqual((await post(served.url, '/messages/send', { room: 'desk', client_id: 'dan', message: 'while away' })).body,
    { room: 'desk', client_id: 'dan', delivered: 0, held: 1 })
  assert.deepEqual((await post(served.url, '/clients/pause', { client_id: 'cid', resume: true })).body, { client_id: 'cid', room: 'desk', status: 'CONNECTED' })
  assert.equal(await cid.next(), 'RESUMED cid CONNECTED held=1 dropped=0')
  assert.equal(await cid.next(), 'MSG desk:dan while away')

  const refusals = [
    [{ client_id: 'nobody' }, 404, "unknown client 'nobody'"],
    [{ client_id: 'reg1' }, 409, "client 'reg1' is NEW; only CONNECTED or ACTIVE clients can be paused"],
    [{ client_id: 'dan', resume: true }, 409, "client 'dan' is not paused (it is CONNECTED)"]
  ]
  for (const [body, status, detail] of refusals) {
    const res = await post(served.url, '/clients/pause', body)
    assert.equal(res.status, status)
    assert.deepEqual(res.body, { detail })
  }
  assert.deepEqual(dan.unread(), [])
})

test('POST /clients/close closes the client\'s WebSocket with 1000 and removes it; a NEW client just goes', async () => {
  const eve = await hello('exit', 'eve')
  const fay = await hello('exit', 'fay')
  const closed = await post(served.url, '/clients/close', { client_id: 'eve' })
  assert.equal(closed.status, 200)
  assert.deepEqual(closed.body, { client_id: 'eve', room: 'exit', status: 'CLOSED' })
  assert.deepEqual(await eve.closed, { code: 1000, reason: 'closed by POST /clients/close' })
  assert.equal(await fay.command('LIST clients').then((l) => l.includes('eve:')), false)

  assert.equal((await post(served.url, '/clients/register', { client_id: 'temp', room: 'exit' })).status, 201)
  assert.deepEqual((await post(served.url, '/clients/close', { client_id: 'temp' })).body, { client_id: 'temp', room: 'exit', status: 'CLOSED' })
  const gone = await post(served.url, '/clients/close', { client_id: 'temp' })
  assert.equal(gone.status, 404)
  assert.deepEqual(gone.body, { detail: "unknown client 'temp'" })
})

test('GET /server/status counts clients by status, rooms and messages, and reports uptime and limits', async () => {
  const first = (await get(served.url, '/server/status')).body
  const rooms = (await get(served.url, '/chatrooms/list')).body.rooms
  const members = rooms.flatMap((r) => r.clients)
  assert.equal(first.clients, members.length)
  assert.equal(first.rooms, rooms.length)
  assert.equal(first.messages, rooms.reduce((n, r) => n + r.messages, 0))
  for (const status of ['NEW', 'CONNECTED', 'ACTIVE', 'SUSPENDED']) {
    assert.equal(first.clients_by_status[status], members.filter((m) => m.status === status).length, status)
  }
  assert.deepEqual(first.limits, { clients: 100, message_length: 255, held: 50 })
  assert.ok(first.uptime > 0)
  const gus = await hello('stats', 'gus')
  assert.equal(await gus.command('SEND stats:gus counted'), 'OK SEND stats:gus delivered=0 held=0')
  const second = (await get(served.url, '/server/status')).body
  assert.equal(second.messages, first.messages + 1)
  assert.equal(second.clients, first.clients + 1)
  assert.equal(second.rooms, first.rooms + 1)
  assert.ok(second.uptime >= first.uptime)
})

test('wrong methods and unknown paths under /api are FastAPI\'s 405 and 404', async () => {
  assert.equal((await rest(served.url, 'GET', '/clients/register')).status, 405)
  const missing = await get(served.url, '/nothing/here')
  assert.equal(missing.status, 404)
  assert.deepEqual(missing.body, { detail: 'Not Found' })
})
