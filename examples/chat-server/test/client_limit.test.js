'use strict'
// The 100-client limit: the 101st client is refused with the reason (REST 503, WebSocket ERROR)
// whichever way it comes, the refused connection keeps working, and a client leaving frees a slot;
// open WebSockets are capped at 200.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startChat, LineClient, post, get } = require('./chat_support')
const { waitFor } = require('../../../test/helpers')

let served
const open = new Set()
const track = (client) => { open.add(client); return client }
const FULL = 'server full: 100 clients is the limit'

test.before(async () => { served = await startChat() })
test.after(async () => {
  await Promise.all([...open].map((c) => c.close()))
  await served?.close()
})

test('100 clients are accepted, the 101st is refused with the reason, and a slot frees when one leaves', async () => {
  // 90 registered over REST (10 at a time), 10 over their own WebSockets
  for (let batch = 0; batch < 9; batch++) {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      post(served.url, '/clients/register', { client_id: `r${batch * 10 + i}`, room: `room${batch}` })))
    for (const res of results) assert.equal(res.status, 201)
  }
  const sockets = await Promise.all(Array.from({ length: 10 }, (_, i) => LineClient.hello(served.url, 'wsroom', `w${i}`)))
  sockets.forEach(track)
  assert.equal((await get(served.url, '/server/status')).body.clients, 100)

  const rest101 = await post(served.url, '/clients/register', { client_id: 'extra', room: 'room0' })
  assert.equal(rest101.status, 503)
  assert.deepEqual(rest101.body, { detail: FULL })

  const late = track(await LineClient.open(served.url))
  assert.equal(await late.command('HELLO wsroom:late'), `ERROR ${FULL}`)
  assert.equal(await late.command('NEW wsroom:late'), `ERROR ${FULL}`)
  assert.match(await late.command('LIST rooms'), /^OK ROOMS .*\bwsroom:10\b/, 'the refused connection still works')
  assert.equal(await sockets[0].command('SEND wsroom:w0 still serving'), 'OK SEND wsroom:w0 delivered=9 held=0')
  for (const s of sockets.slice(1)) assert.equal(await s.next(), 'MSG wsroom:w0 still serving')
  assert.equal((await get(served.url, '/server/status')).body.clients, 100)

  assert.equal(await sockets[9].command('QUIT w9'), 'OK QUIT w9 CLOSING')
  await sockets[9].closed
  assert.equal(await late.command('HELLO wsroom:late'), 'OK HELLO wsroom:late CONNECTED', 'the freed slot is taken')
  assert.equal((await post(served.url, '/clients/register', { client_id: 'extra', room: 'room0' })).status, 503)
  assert.equal((await post(served.url, '/clients/close', { client_id: 'r0' })).body.status, 'CLOSED')
  assert.equal((await post(served.url, '/clients/register', { client_id: 'extra', room: 'room0' })).status, 201)
  assert.equal((await get(served.url, '/server/status')).body.clients, 100)
})

test('open WebSockets are capped at 200: the 201st is closed with 1013 and the reason', async () => {
  const now = (await get(served.url, '/server/status')).body.connections
  const more = await Promise.all(Array.from({ length: 200 - now }, () => LineClient.open(served.url)))
  more.forEach(track)
  assert.equal((await get(served.url, '/server/status')).body.connections, 200)
  const refused = track(await LineClient.open(served.url))
  assert.deepEqual(await refused.closed, { code: 1013, reason: 'too many connections: 200 is the limit' })
  assert.match(await more[0].command('LIST rooms'), /^OK ROOMS /, 'the open ones are still served')
  await more[0].close()
  await waitFor(async () => (await get(served.url, '/server/status')).body.connections < 200, { timeoutMs: 10000, message: 'the server to count the closed connection' })
  const admitted = track(await LineClient.open(served.url))
  assert.match(await admitted.command('LIST rooms'), /^OK ROOMS /)
})
