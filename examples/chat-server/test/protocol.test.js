'use strict'
// The WebSocket line protocol end to end: HELLO, NEW, JOIN, SEND, LIST, PAUSE, QUIT across
// several clients and rooms, with real `ws` clients through Express's server and node-asgi.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startChat, LineClient, get } = require('./chat_support')
const { waitFor } = require('../../../test/helpers')

let served
const open = new Set()
const hello = async (room, id) => track(await LineClient.hello(served.url, room, id))
const connect = async () => track(await LineClient.open(served.url))
const track = (client) => { open.add(client); return client }

test.before(async () => { served = await startChat() })
test.after(async () => {
  await Promise.all([...open].map((c) => c.close()))
  await served?.close()
})

test('messages reach the other members of the sender\'s room only, and LIST shows rooms and clients', async () => {
  const alice = await hello('red', 'alice')
  const bob = await hello('red', 'bob')
  const carol = await hello('blue', 'carol')

  assert.equal(await alice.command('SEND red:alice hello red'), 'OK SEND red:alice delivered=1 held=0')
  assert.equal(await bob.next(), 'MSG red:alice hello red')
  // carol's reply would come after any line queued for her before it: she got nothing
  assert.equal(await carol.command('LIST rooms'), 'OK ROOMS blue:1 red:2')
  assert.equal(await carol.command('LIST clients'), 'OK CLIENTS alice:ACTIVE bob:CONNECTED carol:CONNECTED')

  assert.equal(await carol.command('JOIN red:carol'), 'OK JOIN red:carol ACTIVE')
  assert.equal(await carol.command('LIST rooms'), 'OK ROOMS red:3', 'the empty room blue is gone')
  assert.equal(await bob.command('SEND red:bob hi both'), 'OK SEND red:bob delivered=2 held=0')
  assert.equal(await alice.next(), 'MSG red:bob hi both')
  assert.equal(await carol.next(), 'MSG red:bob hi both')
  assert.equal(await alice.command('SEND red:alice  spaced  text '), 'OK SEND red:alice delivered=2 held=0')
  assert.equal(await bob.next(), 'MSG red:alice  spaced  text ', 'the message is passed as sent')
  assert.equal(await carol.next(), 'MSG red:alice  spaced  text ')
  await Promise.all([alice.close(), bob.close(), carol.close()])
})

test('NEW registers a client without a connection; another connection claims it with JOIN', async () => {
  const registrar = await connect()
  assert.equal(await registrar.command('NEW green:dave'), 'OK NEW green:dave NEW')
  assert.equal(await registrar.command('NEW green:dave'), "ERROR client 'dave' already exists")
  assert.equal(await registrar.command('SEND green:dave hi'), "ERROR client 'dave' is not this connection's client")

  const dave = await connect()
  assert.equal(await dave.command('JOIN green:dave'), 'OK JOIN green:dave ACTIVE')
  const impostor = await connect()
  assert.equal(await impostor.command('HELLO green:dave'), "ERROR client 'dave' is connected on another connection")
  assert.equal(await impostor.command('JOIN green:dave'), "ERROR client 'dave' is connected on another connection")
  assert.equal(await impostor.command('JOIN green:nobody'), "ERROR unknown client 'nobody'")

  const erin = await hello('green', 'erin')
  assert.equal(await erin.command('SEND green:erin to dave'), 'OK SEND green:erin delivered=1 held=0')
  assert.equal(await dave.next(), 'MSG green:erin to dave')
  await Promise.all([registrar.close(), dave.close(), impostor.close(), erin.close()])
})

test('a connection is one client: HELLO as another id is refused, HELLO again as itself is not', async () => {
  const frank = await hello('amber', 'frank')
  assert.equal(await frank.command('HELLO amber:gina'), "ERROR this connection is already client 'frank'")
  assert.equal(await frank.command('LIST clients').then((l) => l.includes('gina')), false, 'the refused HELLO created nobody')
  assert.equal(await frank.command('HELLO amber:frank'), 'OK HELLO amber:frank CONNECTED')
  assert.equal(await frank.command('PAUSE someone'), "ERROR unknown client 'someone'")
  const gina = await hello('amber', 'gina')
  assert.equal(await frank.command('PAUSE gina'), "ERROR client 'gina' is not this connection's client")
  assert.equal(await frank.command('QUIT gina'), "ERROR client 'gina' is not this connection's client")
  assert.equal(await frank.command('SEND amber:gina spoofed'), "ERROR client 'gina' is not this connection's client")
  assert.equal(await frank.command('SEND nowhere:frank hi'), "ERROR unknown room 'nowhere'")
  await hello('teal', 'hank')
  assert.equal(await frank.command('SEND teal:frank hi'), "ERROR client 'frank' is not in room 'teal' (it is in 'amber')")
  assert.deepEqual(gina.unread(), [], 'nothing was sent to gina')
})

test('QUIT answers, closes the connection with 1000 and removes the client from its room', async () => {
  const ivan = await hello('olive', 'ivan')
  const judy = await hello('olive', 'judy')
  const before = (await get(served.url, '/server/status')).body
  assert.equal(await ivan.command('QUIT ivan'), 'OK QUIT ivan CLOSING')
  assert.deepEqual(await ivan.closed, { code: 1000, reason: 'ivan quit' })
  assert.equal(await judy.command('SEND olive:judy anyone?'), 'OK SEND olive:judy delivered=0 held=0')
  assert.equal(await judy.command('LIST rooms').then((l) => l.split(' ').includes('olive:1')), true)
  const after = (await get(served.url, '/server/status')).body
  assert.equal(after.closed, before.closed + 1)
  const rooms = (await get(served.url, '/chatrooms/list')).body.rooms
  assert.deepEqual(rooms.find((r) => r.name === 'olive').clients, [{ client_id: 'judy', room: 'olive', status: 'ACTIVE' }])
})

test('a client whose connection is lost becomes ERROR and is removed; one that closes normally becomes CLOSED', async () => {
  const before = (await get(served.url, '/server/status')).body
  const kate = await hello('plum', 'kate')
  const leo = await hello('plum', 'leo')
  const watcher = await hello('plum', 'mia')
  kate.ws.terminate() // no close frame: 1006 on the server
  await kate.closed
  await leo.close(1000)
  // the server sees both disconnects; wait for them through what it reports
  const status = await waitFor(async () => {
    const now = (await get(served.url, '/server/status')).body
    return now.errored === before.errored + 1 && now.closed === before.closed + 1 && now
  }, { timeoutMs: 10000, message: 'the server to count one ERROR and one CLOSED client' })
  assert.equal(status.errored, before.errored + 1, 'the lost client counted as ERROR')
  assert.equal(status.closed, before.closed + 1, 'the closed client counted as CLOSED')
  assert.equal(await watcher.command('LIST rooms').then((l) => l.split(' ').includes('plum:1')), true)
  assert.equal(await watcher.command('SEND plum:mia still here'), 'OK SEND plum:mia delivered=0 held=0')
})

test('several lines in one frame are run in order with one reply each; command words ignore case', async () => {
  const nina = await connect()
  nina.send('hello lilac:nina\nlist rooms\r\nSend lilac:nina one\nLIST CLIENTS\n')
  assert.equal(await nina.next(), 'OK HELLO lilac:nina CONNECTED')
  assert.match(await nina.next(), /^OK ROOMS .*\blilac:1\b/)
  assert.equal(await nina.next(), 'OK SEND lilac:nina delivered=0 held=0')
  assert.match(await nina.next(), /^OK CLIENTS .*\bnina:ACTIVE\b/)
  assert.deepEqual(nina.unread(), [])
})
