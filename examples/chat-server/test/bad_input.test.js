'use strict'
// Unknown and malformed commands get an ERROR reply naming what was wrong and the connection keeps
// working; oversize frames close only that connection; a misbehaving client does not disturb others.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startChat, LineClient, get } = require('./chat_support')
const { waitFor } = require('../../../test/helpers')

let served
const open = new Set()
const hello = async (room, id) => track(await LineClient.hello(served.url, room, id))
const connect = async () => track(await LineClient.open(served.url))
const track = (client) => { open.add(client); return client }
const COMMANDS = 'commands are HELLO, NEW, JOIN, SEND, LIST, PAUSE, QUIT'

test.before(async () => { served = await startChat() })
test.after(async () => {
  await Promise.all([...open].map((c) => c.close()))
  await served?.close()
})

test('each unknown or malformed command gets its own ERROR, and the connection still works after them', async () => {
  const client = await connect()
  const cases = [
    ['FOO bar', `ERROR unknown command 'FOO'; ${COMMANDS}`],
    ['', `ERROR empty command; ${COMMANDS}`],
    ['   ', `ERROR empty command; ${COMMANDS}`],
    ['HELLO', "ERROR HELLO expects 'room:client_id', got ''"],
    ['HELLO lobby', "ERROR HELLO expects 'room:client_id', got 'lobby'"],
    ['HELLO lobby:a extra', "ERROR HELLO expects 'room:client_id', got 'lobby:a extra'"],
    ['HELLO lobby:', "ERROR client_id must be 1-32 letters, digits, '_', '-' or '.', got ''"],
    ['HELLO :amy', "ERROR room must be 1-32 letters, digits, '_', '-' or '.', got ''"],
    ['HELLO lob/by:amy', "ERROR room must be 1-32 letters, digits, '_', '-' or '.', got 'lob/by'"],
    ['NEW lobby:a:b', "ERROR client_id must be 1-32 letters, digits, '_', '-' or '.', got 'a:b'"],
    ['JOIN', "ERROR JOIN expects 'room:client_id', got ''"],
    ['SEND', "ERROR SEND expects 'room:client_id message', got ''"],
    ['SEND lobby', "ERROR SEND expects 'room:client_id message', got 'lobby'"],
    ['LIST', "ERROR LIST expects 'rooms' or 'clients', got ''"],
    ['LIST users', "ERROR LIST expects 'rooms' or 'clients', got 'users'"],
    ['PAUSE', "ERROR PAUSE expects 'client_id', got ''"],
    ['QUIT a b', "ERROR QUIT expects 'client_id', got 'a b'"],
    ['QUIT', "ERROR QUIT expects 'client_id', got ''"]
  ]
  for (const [line, reply] of cases) assert.equal(await client.command(line), reply, `reply to ${JSON.stringify(line)}`)
  assert.equal(await client.command('HELLO lobby:amy'), 'OK HELLO lobby:amy CONNECTED')
  assert.equal(await client.command('SEND lobby:amy'), 'ERROR message is empty')
  assert.equal(await client.command('SEND lobby:amy still fine'), 'OK SEND lobby:amy delivered=0 held=0')
})

test('a binary frame is answered with an ERROR, not run', async () => {
  const client = await connect()
  client.send(Buffer.from('HELLO lobby:bin'))
  assert.equal(await client.next(), 'ERROR binary frames are not supported; send text lines')
  assert.equal(await client.command('LIST clients').then((l) => l.includes('bin:')), false)
})

test('errors quote at most 40 characters of what was sent', async () => {
  const client = await connect()
  const junk = 'Z'.repeat(60000)
  const reply = await client.command(junk)
  assert.equal(reply, `ERROR unknown command '${'Z'.repeat(40)}'...; ${COMMANDS}`)
  const long = await client.command(`HELLO lobby:${'x'.repeat(100)}`)
  assert.equal(long, `ERROR client_id must be 1-32 letters, digits, '_', '-' or '.', got '${'x'.repeat(40)}'...`)
})

test('a frame of more than 100 lines is refused whole; 100 lines run', async () => {
  const client = await connect()
  const lines = (n) => Array.from({ length: n }, (_, i) => `NEW many:m${i}`).join('\n')
  assert.equal(await client.command(lines(101)), 'ERROR a frame may carry at most 100 lines, got 101 (none was run)')
  assert.equal((await client.command('LIST rooms')).includes('many:'), false, 'no line of the refused frame ran')
  client.send(Array.from({ length: 100 }, (_, i) => i % 2 ? 'LIST rooms' : 'LIST clients').join('\n'))
  for (let i = 0; i < 100; i++) assert.match(await client.next(), i % 2 ? /^OK ROOMS/ : /^OK CLIENTS/)
})

test('a frame over 64 KiB closes only that connection (1009); the others keep chatting', async () => {
  const before = (await get(served.url, '/server/status')).body
  const amy = await hello('quiet', 'ann')
  const bo = await hello('quiet', 'bo')
  const big = await hello('quiet', 'big')
  big.send('SEND quiet:big ' + 'y'.repeat(70 * 1024))
  assert.equal((await big.closed).code, 1009)
  await waitFor(async () => (await get(served.url, '/server/status')).body.errored === before.errored + 1,
    { timeoutMs: 10000, message: 'the closed client to count as ERROR' })
  assert.equal(await amy.command('SEND quiet:ann after the flood'), 'OK SEND quiet:ann delivered=1 held=0', 'big is gone from the room')
  assert.equal(await bo.next(), 'MSG quiet:ann after the flood')
})

test('a client flooding junk does not disturb two others chatting', async () => {
  const before = (await get(served.url, '/server/status')).body
  const ada = await hello('calm', 'ada')
  const ben = await hello('calm', 'ben')
  const rogue = await hello('calm', 'rogue')
  const junk = ['FOO', '', 'HELLO', 'SEND calm:ada spoof', 'JOIN calm:ben', 'LIST nothing', 'PAUSE ada', '\u0000\u0001', 'SEND calm:rogue ' + 'z'.repeat(300)]
  const rogueReplies = []
  const flood = (async () => {
    for (let round = 0; round < 20; round++) {
      for (const line of junk) rogue.send(line)
      rogue.send(Buffer.from([0xff, 0x00]))
      for (let answered = 0; answered <= junk.length;) {
        const line = await rogue.next()
        rogueReplies.push(line)
        if (!line.startsWith('MSG')) answered++
      }
    }
  })()
  for (let i = 0; i < 20; i++) {
    assert.equal(await ada.command(`SEND calm:ada ping ${i}`), 'OK SEND calm:ada delivered=2 held=0')
    assert.equal(await ben.next(), `MSG calm:ada ping ${i}`)
    assert.equal(await ben.command(`SEND calm:ben pong ${i}`), 'OK SEND calm:ben delivered=2 held=0')
    assert.equal(await ada.next(), `MSG calm:ben pong ${i}`)
  }
  await flood
  assert.equal(rogueReplies.filter((r) => r.startsWith('ERROR')).length, 20 * (junk.length + 1), 'every junk line was answered with an ERROR')
  // rogue, a member of the room, also got every ping and pong, in order, among its replies
  const received = [...rogueReplies, ...rogue.unread()].filter((l) => l.startsWith('MSG'))
  const expected = Array.from({ length: 20 }, (_, i) => [`MSG calm:ada ping ${i}`, `MSG calm:ben pong ${i}`]).flat()
  while (received.length < expected.length) received.push(await rogue.next())
  assert.deepEqual(received, expected)
  const status = (await get(served.url, '/server/status')).body
  assert.equal(status.errored, before.errored, 'no client was lost')
  assert.equal(status.clients, before.clients + 3)
  assert.equal(await rogue.command('LIST rooms').then((l) => l.includes('calm:3')), true, 'rogue is still served')
})

test('an upgrade outside /api gets a 404 naming the endpoint', async () => {
  await assert.rejects(LineClient.open(served.url, { path: '/ws' }), (err) => {
    assert.equal(err.status, 404)
    assert.equal(err.body, 'no WebSocket endpoint at /ws; connect to /api/ws\n')
    return true
  })
  // under /api it reaches FastAPI, whose router closes an unknown WebSocket path before accepting: 403
  await assert.rejects(LineClient.open(served.url, { path: '/api/nope' }), (err) => err.status === 403)
})
